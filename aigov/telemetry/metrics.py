"""Every aigov Prometheus metric, defined once; the webhook and the operator import them from here.

Labels stay bounded: codes, kinds, modes, namespaces and AISystem and check names, never image or user names.
docs/metrics.md describes each metric.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Counter_
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

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

from aigov.core import exceptions
from aigov.core.config import EnforcementMode, ExceptionPolicy, RiskTier
from aigov.core.exceptions import AIGovException, ExceptionState
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

WARNING_WINDOW = Gauge(
    "aigov_config_warning_window_seconds",
    "The configured warning window before a record expires (warningWindowDays), for alert rules.",
    registry=OPERATOR_REGISTRY,
)
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

# --- exceptions (operator) ---------------------------------------------------------------------------


class ExceptionsCollector(Collector):
    """`aigov_exceptions{state}` and each honoured exception's expiry, computed from the records at each scrape."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], AIGovException] = {}
        self.policy = ExceptionPolicy()
        self._lock = threading.Lock()

    def set(self, exc: AIGovException) -> None:
        """Record the exception as last seen."""
        with self._lock:
            self._items[(exc.metadata.namespace or "", exc.name)] = exc

    def forget(self, namespace: str, name: str) -> None:
        """Drop a deleted exception."""
        with self._lock:
            self._items.pop((namespace, name), None)

    def collect(self) -> Iterator[Metric]:
        """The samples at the time of the scrape."""
        now = datetime.now(UTC)
        with self._lock:
            items = list(self._items.values())
        states = GaugeMetricFamily("aigov_exceptions", "AIGovExceptions by state (computed now).", labels=["state"])
        expiry = GaugeMetricFamily(
            "aigov_exception_expiry_timestamp_seconds",
            "When each exception in force (Approved or BreakGlass) stops waiving, as Unix time.",
            labels=["namespace", "exception", "break_glass"],
        )
        counts = dict.fromkeys(ExceptionState, 0)
        for exc in items:
            state = exceptions.state(exc, self.policy, now)
            counts[state] += 1
            until = exceptions.effective_expiry(exc, self.policy)
            if state in exceptions.HONOURED and until is not None:
                labels = [exc.metadata.namespace or "", exc.name, str(exc.spec.break_glass).lower()]
                expiry.add_metric(labels, until.timestamp())
        for state, count in counts.items():
            states.add_metric([state.value], count)
        yield states
        yield expiry


EXCEPTIONS = ExceptionsCollector()
OPERATOR_REGISTRY.register(EXCEPTIONS)


# --- nonconformities (operator) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NonconformitySample:
    """One Nonconformity as the gauges need it: source, phase (Open, Verifying, Closed), due time."""

    source: str
    phase: str
    due: float


class NonconformityCollector(Collector):
    """Nonconformities by namespace, source and phase, and the open ones past their due time (at scrape time)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._items: dict[tuple[str, str], NonconformitySample] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def set(self, namespace: str, name: str, sample: NonconformitySample) -> None:
        """Record the latest state of Nonconformity `namespace/name`."""
        with self._lock:
            self._items[namespace, name] = sample

    def forget(self, namespace: str, name: str) -> None:
        """Drop a deleted Nonconformity."""
        with self._lock:
            self._items.pop((namespace, name), None)

    def collect(self) -> Iterator[Metric]:
        """`aigov_nonconformities` and `aigov_nonconformities_overdue`."""
        with self._lock:
            items = sorted(self._items.items())
        now = self._clock()
        counts: Counter_[tuple[str, str, str]] = Counter_()
        overdue: Counter_[tuple[str, str]] = Counter_()
        for (namespace, _), sample in items:
            counts[namespace, sample.source, sample.phase] += 1
            overdue[namespace, sample.source] += sample.phase == "Open" and sample.due < now
        family = GaugeMetricFamily(
            "aigov_nonconformities",
            "Nonconformities by phase: Open, Verifying (closed, effectiveness not yet shown), Closed.",
            labels=["namespace", "source", "phase"],
        )
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        late = GaugeMetricFamily(
            "aigov_nonconformities_overdue",
            "Open nonconformities past their due time (spec.dueAt).",
            labels=["namespace", "source"],
        )
        for pair, count in sorted(overdue.items()):
            late.add_metric(list(pair), count)
        yield family
        yield late


NONCONFORMITIES = NonconformityCollector()
OPERATOR_REGISTRY.register(NONCONFORMITIES)
