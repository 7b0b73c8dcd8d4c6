"""Every aigov Prometheus metric, defined once; the webhook and the operator import them from here.

Labels stay bounded: codes, kinds, modes, namespaces and AISystem and check names, never image or user names.
docs/metrics.md describes each metric.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from aigov.core.config import EnforcementMode, RiskTier
from aigov.core.model import CheckState, Phase

# Admission latency buckets, in seconds, up to the webhook's default timeout (3 s).
ADMISSION_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

ADMISSION_REQUESTS = Counter(
    "aigov_admission_requests_total",
    'Admission decisions; a request counts once per violation code, or once with code="" when it has none.',
    ["decision", "code", "kind", "namespace", "mode"],
)
ADMISSION_DURATION = Histogram(
    "aigov_admission_duration_seconds",
    "Time from receiving an AdmissionReview to answering it.",
    buckets=ADMISSION_BUCKETS,
)
POLICY_EVALUATION_DURATION = Histogram(
    "aigov_policy_evaluation_duration_seconds",
    "Time of one policy decision by OPA, failures included.",
    buckets=ADMISSION_BUCKETS,
)
POLICY_ERRORS = Counter(
    "aigov_policy_errors_total",
    "Policy decisions that failed (OPA unreachable, timed out, or policies missing) and so denied.",
)
POLICY_BUNDLE_INFO = Gauge(
    "aigov_policy_bundle_info",
    "1 for the policy bundle this webhook ships and requires OPA to hold (version, sha256 of the modules).",
    ["version", "sha256"],
)
AISYSTEM_CACHE_SIZE = Gauge(
    "aigov_aisystem_cache_size",
    "AISystems held in the webhook's watch cache.",
)

# --- operator --------------------------------------------------------------------------------------
# The operator serves OPERATOR_REGISTRY only, so neither process exports the other's metric families.

OPERATOR_REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=OPERATOR_REGISTRY)
PlatformCollector(registry=OPERATOR_REGISTRY)

SUSPENSIONS = Counter(
    "aigov_suspensions_total",
    "Suspensions that began while this operator process watched, by reason "
    "(CheckBreached, NoData, AlertFiring; Manual for any reason a person wrote).",
    ["namespace", "aisystem", "reason"],
    registry=OPERATOR_REGISTRY,
)


@dataclass(frozen=True, slots=True)
class CheckSample:
    """One monitoring check as the operator last recorded it."""

    check: str
    state: str
    value: float | None
    """The last value, when the last evaluation produced one (ok, pending, breached)."""


@dataclass(frozen=True, slots=True)
class SystemSample:
    """What one AISystem contributes to the operator's gauges."""

    phase: str | None
    risk_tier: str
    expiries: tuple[tuple[str, float], ...]
    """(record, Unix time): `assessment`, `approval` (when the approvals stop sufficing)."""
    bound_workloads: int
    suspended: bool
    checks: tuple[CheckSample, ...]


class GovernanceCollector(Collector):
    """The gauges derived from every AISystem's stored state, rebuilt at each scrape from the latest samples."""

    def __init__(self, phases: Sequence[str], tiers: Sequence[str], states: Sequence[str]) -> None:
        self._phases, self._tiers, self._states = tuple(phases), tuple(tiers), tuple(states)
        self._systems: dict[tuple[str, str], SystemSample] = {}
        self._lock = threading.Lock()

    def set(self, namespace: str, name: str, sample: SystemSample) -> None:
        """Record the latest sample of AISystem `namespace/name`."""
        with self._lock:
            self._systems[namespace, name] = sample

    def forget(self, namespace: str, name: str) -> None:
        """Drop a deleted AISystem's series."""
        with self._lock:
            self._systems.pop((namespace, name), None)

    def collect(self) -> Iterator[Metric]:
        """The gauge families (called by the exposition at every scrape)."""
        with self._lock:
            systems = sorted(self._systems.items())
        keys = ["namespace", "aisystem"]
        counts = GaugeMetricFamily(
            "aigov_aisystems", "AISystems by phase and risk tier (evaluated ones).", labels=["phase", "risk_tier"]
        )
        expiry = GaugeMetricFamily(
            "aigov_aisystem_expiry_timestamp_seconds",
            "When a record stops counting, Unix time: the impact assessment, or the moment the valid approvals "
            "no longer suffice for the tier (in the past once they have expired).",
            labels=[*keys, "record"],
        )
        bound = GaugeMetricFamily(
            "aigov_aisystem_bound_workloads", "Workloads labelled with the AISystem's name.", labels=keys
        )
        suspended = GaugeMetricFamily("aigov_suspended", "1 while the AISystem is suspended, else 0.", labels=keys)
        value = GaugeMetricFamily(
            "aigov_drift_check_value", "The last value of a monitoring check's query.", labels=[*keys, "check"]
        )
        state = GaugeMetricFamily(
            "aigov_drift_check_state",
            "1 for a monitoring check's current state (ok, pending, breached, noData, error), 0 for the others.",
            labels=[*keys, "check", "state"],
        )
        tally = {(phase, tier): 0 for phase in self._phases for tier in self._tiers}
        for (namespace, name), sample in systems:
            if sample.phase is not None:
                tally[sample.phase, sample.risk_tier] = tally.get((sample.phase, sample.risk_tier), 0) + 1
            for record, timestamp in sample.expiries:
                expiry.add_metric([namespace, name, record], timestamp)
            bound.add_metric([namespace, name], sample.bound_workloads)
            suspended.add_metric([namespace, name], 1.0 if sample.suspended else 0.0)
            for check in sample.checks:
                if check.value is not None:
                    value.add_metric([namespace, name, check.check], check.value)
                for candidate in self._states:
                    state.add_metric(
                        [namespace, name, check.check, candidate], 1.0 if candidate == check.state else 0.0
                    )
        for (phase, tier), count in sorted(tally.items()):
            counts.add_metric([phase, tier], count)
        yield from (counts, expiry, bound, suspended, value, state)


GOVERNANCE = GovernanceCollector(
    phases=[p.value for p in Phase], tiers=[t.value for t in RiskTier], states=[s.value for s in CheckState]
)
OPERATOR_REGISTRY.register(GOVERNANCE)

# --- audit -----------------------------------------------------------------------------------------
# `aigov audit-server` serves AUDIT_REGISTRY only. Each round replaces the whole snapshot, so a
# scrape sees one complete round, never a half-cleared one.

AUDIT_REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=AUDIT_REGISTRY)
PlatformCollector(registry=AUDIT_REGISTRY)


@dataclass(frozen=True, slots=True)
class AuditRound:
    """What one audit round found."""

    violations: dict[tuple[str, str, str], int]
    """(code, namespace, kind) -> workloads failing with that code."""
    unreviewed: dict[tuple[str, str], int]
    """(group, kind) of kinds the webhook does not review that embed pod templates -> AI-shaped objects found."""
    workloads: int
    duration: float
    finished: float
    """Unix time."""
    modes: dict[str, str] = field(default_factory=dict)
    """Namespace -> enforcement mode, for every namespace aigov does not exclude (`off` ones included)."""


class AuditCollector(Collector):
    """The audit's gauges, from the last complete round."""

    def __init__(self) -> None:
        self._round: AuditRound | None = None
        self._lock = threading.Lock()

    def set(self, result: AuditRound) -> None:
        """Publish a finished round."""
        with self._lock:
            self._round = result

    def collect(self) -> Iterator[Metric]:
        """The gauge families (empty before the first round)."""
        with self._lock:
            last = self._round
        violations = GaugeMetricFamily(
            "aigov_audit_violations",
            "Existing workloads that admission would deny, by violation code, namespace and kind (last audit round).",
            labels=["code", "namespace", "kind"],
        )
        unreviewed = GaugeMetricFamily(
            "aigov_audit_unreviewed_kind_objects",
            "Objects with AI signals in pod templates of a kind the webhook does not review (last audit round).",
            labels=["group", "kind"],
        )
        workloads = GaugeMetricFamily("aigov_audit_workloads", "Workloads the last audit round evaluated.")
        duration = GaugeMetricFamily("aigov_audit_duration_seconds", "How long the last audit round took.")
        finished = GaugeMetricFamily(
            "aigov_audit_last_round_timestamp_seconds", "When the last audit round finished, Unix time."
        )
        namespaces = GaugeMetricFamily(
            "aigov_namespaces", "Namespaces by enforcement mode (last audit round).", labels=["mode"]
        )
        relaxed = GaugeMetricFamily(
            "aigov_namespace_enforcement",
            "1 for each namespace whose enforcement mode is not enforce, by mode (last audit round).",
            labels=["namespace", "mode"],
        )
        if last is not None:
            for (code, namespace, kind), count in sorted(last.violations.items()):
                violations.add_metric([code, namespace, kind], count)
            for (group, kind), count in sorted(last.unreviewed.items()):
                unreviewed.add_metric([group, kind], count)
            workloads.add_metric([], last.workloads)
            duration.add_metric([], last.duration)
            finished.add_metric([], last.finished)
            for each in EnforcementMode:
                namespaces.add_metric([each.value], sum(1 for m in last.modes.values() if m == each))
            for namespace, mode in sorted(last.modes.items()):
                if mode != EnforcementMode.ENFORCE:
                    relaxed.add_metric([namespace, mode], 1)
        yield from (violations, unreviewed, workloads, duration, finished, namespaces, relaxed)


AUDIT = AuditCollector()
AUDIT_REGISTRY.register(AUDIT)
