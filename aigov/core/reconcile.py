"""What one reconciliation of an AISystem writes and announces: pure, from the object, its workloads and the time.

The operator reads the object, calls `plan`, writes `ReconcilePlan.status` (a JSON merge
patch of only the operator-owned fields that changed, empty when nothing did)
and, once that write succeeded, emits `ReconcilePlan.events`. Because the events are
derived from the status the write replaces (the phase before, the expiry
warnings already recorded), each transition and each expiring record is
announced once, however often the object is re-evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aigov.core.binding import inventory
from aigov.core.config import Config
from aigov.core.events import Announcement, EventType
from aigov.core.lifecycle import Evaluation, Expiring, evaluate, status_changes
from aigov.core.model import AISystem, BoundWorkload, ExpiryWarning, Phase

WARNING_PHASES = frozenset({Phase.EXPIRED, Phase.SUSPENDED, Phase.PROHIBITED})
"""Phases whose arrival is announced with a Warning Event rather than a Normal one."""

_EXPIRY_MARGIN = timedelta(milliseconds=100)
"""Wake this long after an expiry, so the record is seen as expired (`expiresAt > now` no longer holds)."""


@dataclass(frozen=True, slots=True)
class ReconcilePlan:
    """The outcome of one reconciliation."""

    status: dict[str, Any]
    events: tuple[Announcement, ...]
    evaluation: Evaluation

    def seconds_until_due(self, now: datetime, resync_seconds: float = 0.0) -> float | None:
        """How long until the outcome may change by time alone (the next expiry, or an expiry entering the
        warning window), at most `resync_seconds` when that is positive; None when only a change can."""
        dues = [(moment + _EXPIRY_MARGIN - now).total_seconds() for moment in self._moments()]
        if resync_seconds > 0:
            dues.append(resync_seconds)
        return max(min(dues), _EXPIRY_MARGIN.total_seconds()) if dues else None

    def _moments(self) -> list[datetime]:
        moments = (self.evaluation.next_expiry, self.evaluation.next_warning)
        return [moment for moment in moments if moment is not None]


def plan(system: AISystem, workloads: Iterable[BoundWorkload], config: Config, now: datetime) -> ReconcilePlan:
    """The status patch and Events that bring `system` up to date at `now`."""
    status = system.status
    evaluation = evaluate(system, config, now)
    patch = status_changes(status, evaluation)
    bound = [w.to_dict() for w in inventory(workloads)]
    if bound != [w.to_dict() for w in status.bound_workloads]:
        patch["boundWorkloads"] = bound or None
    warned = [_warning(e).to_dict() for e in evaluation.expiring]
    if warned != [w.to_dict() for w in status.expiry_warnings]:
        patch["expiryWarnings"] = warned or None
    return ReconcilePlan(patch, _events(system, evaluation, now), evaluation)


def _warning(expiring: Expiring) -> ExpiryWarning:
    return ExpiryWarning(reason=expiring.reason, subject=expiring.subject, expires_at=expiring.expires_at)


def _events(system: AISystem, evaluation: Evaluation, now: datetime) -> tuple[Announcement, ...]:
    events: list[Announcement] = []
    before, phase = system.status.phase, evaluation.phase
    if phase != before:
        kind = EventType.WARNING if phase in WARNING_PHASES else EventType.NORMAL
        change = f"phase {before.value} -> {phase.value}" if before else f"phase {phase.value}"
        events.append(Announcement(kind, phase.value, f"{change}: {evaluation.message}"))
    announced = {(w.reason, w.subject, w.expires_at) for w in system.status.expiry_warnings}
    for record in evaluation.expiring:
        if (record.reason, record.subject, record.expires_at) not in announced:
            left = _duration(record.expires_at - now)
            events.append(Announcement(EventType.WARNING, record.reason, f"{record.message} (in {left})"))
    return tuple(events)


def _duration(span: timedelta) -> str:
    """`span` in its largest whole unit, e.g. `13 days`, `5 hours`, `1 minute`, `4 seconds`."""
    seconds = max(int(span.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
