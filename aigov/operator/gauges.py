"""Pure: what one AISystem contributes to the operator's gauges, from its stored state and the time.

The samples read what the reconcilers wrote (phase, bound workloads, check
states), so the metrics say what `kubectl get aisystem -o yaml` says.
"""

from __future__ import annotations

from datetime import datetime

from aigov.core import alertmanager
from aigov.core.config import Config
from aigov.core.drift import Cause
from aigov.core.lifecycle import ApprovalState, counted_approvals, decisive_assessment, evaluate
from aigov.core.model import AISystem, ApproverDecision, AssessmentStatus, CheckState, ConditionType
from aigov.telemetry.metrics import CheckSample, SystemSample

_FRESH_VALUE = frozenset({CheckState.OK, CheckState.PENDING, CheckState.BREACHED})
_COUNTED = frozenset({ApprovalState.SUFFICIENT.value, ApprovalState.EXPIRED.value})

SUSPENSION_REASONS = frozenset({*(cause.value for cause in Cause), alertmanager.REASON})
"""The reasons the operator writes; any other reason is a person's, counted as `Manual`."""


def suspension_reason(reason: str | None) -> str:
    """The bounded `reason` label of `aigov_suspensions_total`."""
    return reason if reason in SUSPENSION_REASONS else "Manual"


def sample(system: AISystem, config: Config, now: datetime) -> SystemSample:
    """The gauges' view of `system` at `now`."""
    status = system.status
    names = {check.name for check in (system.spec.monitoring.checks if system.spec.monitoring else [])}
    checks = tuple(
        CheckSample(c.name, c.state.value, c.last_value if c.state in _FRESH_VALUE else None)
        for c in (status.monitoring.checks if status.monitoring else [])
        if c.name in names
    )
    return SystemSample(
        phase=status.phase.value if status.phase else None,
        risk_tier=system.spec.risk_tier.value,
        expiries=_expiries(system, config, now),
        bound_workloads=len(status.bound_workloads),
        suspended=bool(status.suspension and status.suspension.active),
        checks=checks,
    )


def _expiries(system: AISystem, config: Config, now: datetime) -> tuple[tuple[str, float], ...]:
    found: list[tuple[str, float]] = []
    record = decisive_assessment(system.status)
    required = config.requirement(system.spec.risk_tier).require_assessment
    if required and record and record.status == AssessmentStatus.COMPLETED and record.expires_at:
        found.append(("assessment", record.expires_at.timestamp()))
    until = _approvals_suffice_until(system, config, now)
    if until is not None:
        found.append(("approval", until.timestamp()))
    return tuple(found)


def _approved_reason(system: AISystem, config: Config, at: datetime) -> str:
    evaluation = evaluate(system, config, at)
    return next(c.reason for c in evaluation.conditions if c.type == ConditionType.APPROVED)


def _approvals_suffice_until(system: AISystem, config: Config, now: datetime) -> datetime | None:
    """When the approvals stop sufficing (past when they have expired); None when they never sufficed or never end."""
    if _approved_reason(system, config, now) not in _COUNTED:
        return None
    granted = counted_approvals(system.status.approvals).values()
    ends = sorted({e.expires_at for e in granted if e.decision == ApproverDecision.APPROVED and e.expires_at})
    return next((end for end in ends if _approved_reason(system, config, end) != ApprovalState.SUFFICIENT), None)
