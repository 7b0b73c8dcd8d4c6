"""Pure suspension planning: what to write and which workloads to stop or restore, in a crash-safe order.

No I/O: the operator reads the AISystem and the current replicas of the
workloads `to_read` names, calls `plan`, then writes `SuspensionPlan.record`, performs
`SuspensionPlan.actions`, and writes `SuspensionPlan.archive`, in that order, stopping at the
first failure. Every step is idempotent, so running the plan again after a
crash anywhere in between converges:

- Active suspension: each bound stoppable workload not yet in
  `previousReplicas` is recorded with its current replicas (`record`, written
  *before* any workload is touched); every one still running is then set to
  zero. Recorded counts are never overwritten, so a workload scaled to zero
  by an earlier run keeps the count to restore. A suspension a person wrote
  (previousReplicas empty) is completed the same way as one the operator wrote.
- Resumed suspension (`active: false` with `resumedAt`, as `kubectl aigov
  resume` writes it): each recorded workload that still exists is set back to
  its recorded replicas, *then* the suspension moves to `suspensionHistory`
  and `suspension` is cleared (`archive`). Until that write, a restart restores again.

Every kind of the table with a stop method is stopped (`WorkloadReplicas.stop`
records how): Deployments, StatefulSets, ReplicaSets and ReplicationControllers
scale to 0; (Cron)Jobs and other suspendable kinds get `suspend: true`; a KServe
InferenceService the `serving.kserve.io/stop: "true"` annotation; a DaemonSet
the node selector `aigov.io/stopped: "true"`, which no node matches (removed on
resume); a bare Pod is deleted, its labels, annotations and spec kept in the
record (`kept_pod`) and re-created on resume. "Replicas" of a kind without them
is 1 for running, 0 for stopped; a deleted Pod is simply absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aigov.core.model import AISystemStatus, Suspension, WorkloadReplicas, rfc3339
from aigov.core.workloads import KINDS, StopMethod, find

STOP_METHODS = frozenset(StopMethod) - {StopMethod.NONE}
"""How the operator stops workloads (`aigov.core.workloads.StopMethod`): every method but `none`."""


@dataclass(frozen=True, slots=True, order=True)
class WorkloadRef:
    """One workload in the AISystem's namespace."""

    api_version: str
    kind: str
    name: str

    @property
    def group(self) -> str:
        """The API group (empty for the core group)."""
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class SetReplicas:
    """Set a workload's replicas (0 stops it), from `before`."""

    workload: WorkloadRef
    replicas: int
    before: int
    pod: Mapping[str, Any] | None = field(default=None, compare=False)
    """A deleted Pod to re-create (`kept_pod`)."""

    def __str__(self) -> str:
        how = stop_method(self.workload)
        return f"{self.workload} ({self.before} -> {self.replicas}{'' if how == StopMethod.SCALE else f', {how}'})"


@dataclass(frozen=True, slots=True)
class SuspensionPlan:
    """Write `record`, then perform `actions`, then write `archive`; empty parts are skipped."""

    record: dict[str, Any] = field(default_factory=dict)
    actions: tuple[SetReplicas, ...] = ()
    archive: dict[str, Any] = field(default_factory=dict)
    missing: tuple[WorkloadRef, ...] = ()
    """Recorded workloads that no longer exist (nothing to restore)."""

    def __bool__(self) -> bool:
        return bool(self.record or self.actions or self.archive)


def stop_method(ref: WorkloadRef) -> StopMethod:
    """How a suspension stops this kind of workload (the kinds table says; `none` for unknown kinds)."""
    entry = find(KINDS, ref.group, ref.kind)
    return entry.stop if entry is not None else StopMethod.NONE


def stoppable(ref: WorkloadRef) -> bool:
    """Whether a suspension can stop this kind of workload."""
    return stop_method(ref) in STOP_METHODS


def kept_pod(pod: Mapping[str, Any]) -> dict[str, Any]:
    """What re-creates a deleted bare Pod: its name, labels, annotations and spec (without the node it ran on)."""
    metadata = pod.get("metadata") or {}
    kept = {key: metadata[key] for key in ("name", "labels", "annotations") if metadata.get(key)}
    spec = {key: value for key, value in (pod.get("spec") or {}).items() if key != "nodeName"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": kept, "spec": spec}


def _ref(entry: WorkloadReplicas) -> WorkloadRef:
    return WorkloadRef(entry.api_version, entry.kind, entry.name)


def resumed(suspension: Suspension | None) -> bool:
    """A resume the operator has not yet finished (restored and archived)."""
    return suspension is not None and not suspension.active and suspension.resumed_at is not None


def needs_attention(status: AISystemStatus) -> bool:
    """Whether the suspension planner has anything to check: a retirement, an active or a freshly resumed suspension."""
    suspension = status.suspension
    return status.retirement is not None or (suspension is not None and (suspension.active or resumed(suspension)))


def to_read(status: AISystemStatus, bound: Iterable[WorkloadRef]) -> list[WorkloadRef]:
    """The workloads whose current replicas `plan` needs: the bound stoppable ones, or the recorded ones on resume."""
    suspension = status.suspension
    if status.retirement is not None or (suspension is not None and suspension.active):
        return sorted({ref for ref in bound if stoppable(ref)})
    if suspension is None:
        return []
    if resumed(suspension):
        return [_ref(entry) for entry in suspension.previous_replicas]
    return []


def plan(
    status: AISystemStatus,
    current: Mapping[WorkloadRef, int],
    now: datetime,
    pods: Mapping[WorkloadRef, Mapping[str, Any]] | None = None,
) -> SuspensionPlan:
    """What brings the workloads in line with `status.suspension`.

    `current` holds the workloads `to_read` found, `pods` the running bare Pods among them (`kept_pod`).
    A retired system's workloads are stopped for good: nothing is recorded to restore, no resume restores them.
    """
    suspension = status.suspension
    if status.retirement is not None:
        return SuspensionPlan(actions=_stops(current))
    if suspension is not None and suspension.active:
        return _enforce(suspension, current, now, pods or {})
    if suspension is not None and resumed(suspension):
        return _restore(status, suspension, current)
    return SuspensionPlan()


def _enforce(
    suspension: Suspension,
    current: Mapping[WorkloadRef, int],
    now: datetime,
    pods: Mapping[WorkloadRef, Mapping[str, Any]],
) -> SuspensionPlan:
    recorded = {_ref(entry) for entry in suspension.previous_replicas}
    new = [
        WorkloadReplicas(
            api_version=ref.api_version,
            kind=ref.kind,
            name=ref.name,
            replicas=replicas,
            stop=stop_method(ref).value,
            pod=dict(pods[ref]) if ref in pods else None,
        )
        for ref, replicas in sorted(current.items())
        if ref not in recorded
    ]
    record: dict[str, Any] = {}
    if new:
        record["previousReplicas"] = [e.to_dict() for e in [*suspension.previous_replicas, *new]]
    if suspension.since is None:
        record["since"] = rfc3339(now)
    return SuspensionPlan(record={"suspension": record} if record else {}, actions=_stops(current))


def _stops(current: Mapping[WorkloadRef, int]) -> tuple[SetReplicas, ...]:
    return tuple(SetReplicas(ref, 0, replicas) for ref, replicas in sorted(current.items()) if replicas > 0)


def _restore(status: AISystemStatus, suspension: Suspension, current: Mapping[WorkloadRef, int]) -> SuspensionPlan:
    actions, missing = [], []
    for entry in suspension.previous_replicas:
        ref = _ref(entry)
        if ref not in current and entry.pod is not None:
            actions.append(SetReplicas(ref, 1, 0, pod=entry.pod))
        elif ref not in current:
            missing.append(ref)
        elif current[ref] != entry.replicas:
            actions.append(SetReplicas(ref, entry.replicas, current[ref]))
    history = [s.to_dict() for s in status.suspension_history] + [suspension.to_dict()]
    return SuspensionPlan(
        actions=tuple(actions), archive={"suspension": None, "suspensionHistory": history}, missing=tuple(missing)
    )


def last_resumed_at(status: AISystemStatus) -> datetime | None:
    """When a person last resumed this system (a resume overrides the bad periods that began before it)."""
    times = [s.resumed_at for s in [*status.suspension_history, status.suspension] if s and s.resumed_at]
    return max(times, default=None)


def request(
    status: AISystemStatus,
    *,
    now: datetime,
    reason: str,
    by: str,
    check: str | None = None,
    value: float | None = None,
    cause_since: datetime | None = None,
) -> dict[str, Any] | None:
    """The status merge patch that suspends the system, or None when it is suspended, resuming, or overridden.

    `cause_since` is when the cause began (a check's `breachingSince`); a person's
    resume after that moment stands, and the cause does not suspend again.
    """
    suspension = status.suspension
    if suspension is not None and (suspension.active or resumed(suspension)):
        return None
    resumed_at = last_resumed_at(status)
    if cause_since is not None and resumed_at is not None and resumed_at >= cause_since:
        return None
    fresh = Suspension(active=True, since=now, reason=reason, suspended_by=by, check=check, value=value)
    cleared = {f.alias or name: None for name, f in Suspension.model_fields.items()}
    return {"suspension": cleared | fresh.to_dict()}
