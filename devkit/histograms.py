"""Quantiles from Prometheus histograms scraped as text: what the benchmarks read from /metrics.

Estimates from cumulative buckets, interpolated linearly inside the bucket the
quantile falls in (as PromQL's histogram_quantile does).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

Buckets = dict[float, float]
"""Cumulative histogram buckets: upper bound (`le`, +Inf included) -> count."""


@dataclass(frozen=True)
class Estimate:
    """A quantile estimated from buckets, with the bounds of the bucket it fell in."""

    value: float
    lower: float
    upper: float


def histogram_quantile(q: float, buckets: Buckets) -> Estimate:
    """The q-quantile of cumulative `buckets`, interpolated linearly inside its bucket (like PromQL's).

    The first bucket's lower bound is 0; a quantile that falls in the +Inf bucket
    is reported as the highest finite bound (nothing better is known).
    """
    bounds = sorted(buckets)
    if not bounds or not math.isinf(bounds[-1]):
        raise ValueError("a histogram needs a +Inf bucket")
    total = buckets[bounds[-1]]
    if total <= 0:
        raise ValueError("the histogram has no observations")
    rank = q * total
    lower, below = 0.0, 0.0
    for upper in bounds:
        count = buckets[upper]
        if count >= rank and count > below:
            if math.isinf(upper):
                return Estimate(lower, lower, upper)
            return Estimate(lower + (upper - lower) * (rank - below) / (count - below), lower, upper)
        lower, below = upper, count
    raise AssertionError("unreachable: the +Inf bucket holds every observation")


def scrape_buckets(text: str, family: str, labels: Mapping[str, str]) -> Buckets:
    """The `_bucket` samples of histogram `family` whose labels include `labels`, summed by `le`."""
    found: Buckets = {}
    for metric in text_string_to_metric_families(text):
        if metric.name != family:
            continue
        for sample in metric.samples:
            if sample.name != f"{family}_bucket" or any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            le = float(sample.labels["le"])
            found[le] = found.get(le, 0.0) + sample.value
    return found


def delta(after: Buckets, before: Buckets) -> Buckets:
    """The observations between two scrapes of the same histogram."""
    return {le: count - before.get(le, 0.0) for le, count in after.items()}
