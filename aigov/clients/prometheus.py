"""Instant queries against the Prometheus HTTP API, answered as a drift `Outcome`: a sample, no data, or an error.

A check's query must come down to one number, so the answer maps as follows:

- a vector with one sample, or a scalar: `Sample` (a NaN value is `NoData`: a
  ratio of nothing is not a measurement);
- an empty vector: `NoData`;
- a vector with several samples: `QueryError` naming how many series came
  back. Picking one (the max, say) would hide a query that matches more than
  the author meant; aggregate in PromQL instead (`max(...)`);
- anything else (a matrix or string result, an HTTP or network failure, a
  timeout, an API error such as a PromQL syntax error): `QueryError`.

Queries carry no `time`, so Prometheus evaluates them at its own clock.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from aigov.core.drift import NoData, Outcome, QueryError, Sample

DEFAULT_TIMEOUT = 5.0


def outcome(answer: Any) -> Outcome:
    """The outcome of a decoded `/api/v1/query` response body."""
    if not isinstance(answer, dict):
        return QueryError("Prometheus answered with something other than a JSON object")
    if answer.get("status") != "success":
        return QueryError(f"Prometheus {answer.get('errorType') or 'error'}: {answer.get('error') or 'no detail'}")
    data: dict[str, Any] = answer.get("data") or {}
    kind: str | None = data.get("resultType")
    result: Any = data.get("result")
    try:
        if kind == "scalar":
            return _sample(result[1])
        if kind == "vector" and isinstance(result, list):
            if not result:
                return NoData()
            if len(result) > 1:
                return QueryError(f"the query returned {len(result)} series, not one; aggregate it, e.g. max(...)")
            return _sample(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return QueryError(f"Prometheus answered a {kind} this client cannot read")
    return QueryError(f"the query returned a {kind}, not one sample")


def _sample(text: str) -> Outcome:
    value = float(text)
    return NoData() if math.isnan(value) else Sample(value)


class Prometheus:
    """An instant-query client for one Prometheus (or a compatible API such as Thanos or Mimir)."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.url, timeout=timeout)

    async def query(self, promql: str) -> Outcome:
        """Run `promql` now; never raises for Prometheus or network trouble."""
        try:
            response = await self._client.get("/api/v1/query", params={"query": promql})
        except httpx.TimeoutException:
            return QueryError(f"Prometheus at {self.url} did not answer in time")
        except httpx.HTTPError as exc:
            return QueryError(f"Prometheus at {self.url} unreachable: {exc or type(exc).__name__}")
        try:
            answer = response.json()
        except ValueError:
            return QueryError(f"Prometheus answered HTTP {response.status_code} without JSON")
        return outcome(answer)

    async def close(self) -> None:
        """Release the connection pool."""
        await self._client.aclose()
