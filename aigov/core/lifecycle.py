"""Pure lifecycle: an AISystem's phase, conditions and expiries from its records and the time.

No I/O: the operator reads the object, calls `evaluate`, and patches `status_changes`.
The facts are those the admission policies decide from, with the same meaning:

- An approver's entry that counts is their *last* entry in `status.approvals`
  (list order: the list is append-only). It is *valid* when its decision is
  `approved` and `expiresAt > now`; `approvedCount` is the number of valid
  entries, so distinct approvers by construction. An approval recorded with a
  `specHash` counts only while it equals `digests.spec_hash` of the current spec.
- Approvals *suffice* when there are at least the tier's `min_approvals` valid
  ones and every role in the tier's `required_roles` is held by one of them.
  They have *expired* when they would suffice if expired approvals counted.
- The assessments are the legacy `status.impactAssessment` (first) and then the
  append-only `status.assessments`; an assessor's *last* entry counts. The
  *decisive* one is the last rejection among the entries that count, if any (a
  rejection stands until the same assessor records a later entry), else the last
  entry overall. The assessment is *valid* when the decisive one is `completed`,
  `expiresAt > now` and not *stale* (or the tier does not require one). It is
  stale when its `riskTier` is recorded and differs from `spec.riskTier`; an
  expired one is expired, not stale; one without `riskTier` (recorded before
  aigov wrote it) is never stale.

Phase, first match wins:
`Prohibited` (tier not deployable, including unknown tiers) → `Retired`
(`status.retirement` recorded by an approver, or `spec.lifecycle.stage: retired`) →
`Suspended` (`status.suspension.active`) →
`Draft` (stage `design` and no assessment or approval recorded yet: nothing is
asked of a system still on the drawing board) → `Incomplete` (the spec lacks a
declaration the tier requires: `missing_declarations`) → `AwaitingAssessment` (none,
rejected, or stale) → `Expired` (the assessment, or approvals that sufficed, ran out) →
`AwaitingApproval` → `Approved`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from aigov.core.config import Config, TierRequirement
from aigov.core.digests import spec_hash
from aigov.core.model import (
    REASON_PATTERN,
    AISystem,
    AISystemStatus,
    Approval,
    ApproverDecision,
    AssessmentStatus,
    Condition,
    ConditionStatus,
    ConditionType,
    ImpactAssessment,
    LifecycleStage,
    OperatorRole,
    Phase,
    rfc3339,
)


class AssessmentState(StrEnum):
    """Where the impact assessment stands; the value is the `ImpactAssessed` reason."""

    VALID = "AssessmentCompleted"
    NOT_REQUIRED = "AssessmentNotRequired"
    MISSING = "AssessmentMissing"
    REJECTED = "AssessmentRejected"
    EXPIRED = "AssessmentExpired"
    STALE = "AssessmentStale"


_ASSESSED = (AssessmentState.VALID, AssessmentState.NOT_REQUIRED)


class ApprovalState(StrEnum):
    """Where the approvals stand; the value is the `Approved` reason."""

    SUFFICIENT = "ApprovalsValid"
    NOT_DEPLOYABLE = "NotDeployable"
    MISSING = "ApprovalsMissing"
    ROLE_MISSING = "ApprovalRoleMissing"
    EXPIRED = "ApprovalsExpired"


@dataclass(frozen=True, slots=True)
class Expiring:
    """A valid record that expires within the warning window (for a Warning Event)."""

    reason: str
    subject: str
    expires_at: datetime
    message: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything the operator derives for one AISystem at one instant."""

    phase: Phase
    previous_phase: Phase | None
    conditions: tuple[Condition, ...]
    approved_count: int
    next_expiry: datetime | None
    observed_generation: int | None
    expiring: tuple[Expiring, ...]
    next_warning: datetime | None = None
    """When the earliest expiry not yet within the warning window enters it."""

    @property
    def message(self) -> str:
        """Why the system is in its phase (the `Ready` condition's message)."""
        return next(c.message for c in self.conditions if c.type == ConditionType.READY)


def counted_approvals(approvals: list[Approval]) -> dict[str, Approval]:
    """Each approver's last entry (the one that counts), by approver."""
    latest: dict[str, Approval] = {}
    for entry in approvals:
        latest.pop(entry.approver, None)
        latest[entry.approver] = entry
    return latest


def conflicted(system: AISystem) -> frozenset[str]:
    """Who may not approve this system now (lower case): its current owner (name, email) and every assessor on record.

    Decided from the current record, so editing `spec.owner` around an approval, or assessing
    after approving, does not make the approval count (same as the policies).
    """
    owner = system.spec.owner
    assessors = [record.assessor for record in system.status.assessment_records]
    names = (owner.name if owner else None, owner.email if owner else None, *assessors)
    return frozenset(n.lower() for n in names if n)


def decisive_assessment(status: AISystemStatus) -> ImpactAssessment | None:
    """The assessment the system is judged by: the last rejection among each assessor's last
    entries, else the last entry (None when there is none)."""
    records = status.assessment_records
    latest = {record.assessor: i for i, record in enumerate(records)}
    rejections = [i for i in latest.values() if records[i].status == AssessmentStatus.REJECTED]
    if rejections:
        return records[max(rejections)]
    return records[-1] if records else None


def missing_declarations(system: AISystem, requirement: TierRequirement) -> list[str]:
    """The spec fields the tier requires and `system` lacks (the policies' `_classification_missing`
    and `_models_without_digest`)."""
    if not requirement.deployable:
        return []
    missing = []
    if requirement.require_model_digests:
        missing += [f"spec.models[{m.name}].digest" for m in system.spec.models if not m.digest]
    classification = system.spec.classification
    if requirement.require_classification:
        if classification is None:
            missing.append("spec.classification")
        elif OperatorRole.PROVIDER in classification.roles and not classification.eu_database_id:
            missing.append("spec.classification.euDatabaseId")
    return sorted(missing)


def _suffice(entries: list[Approval], requirement: TierRequirement) -> bool:
    held = {e.role for e in entries}
    return len(entries) >= requirement.min_approvals and all(r in held for r in requirement.required_roles)


@dataclass(frozen=True, slots=True)
class _Facts:
    """The facts the phase is decided from (the same ones the policies read).

    `granted`: each approver's counted entry when it is an approval, expired or not;
    `valid`: those of them not yet expired.
    """

    name: str
    requirement: TierRequirement
    stage: LifecycleStage | None
    assessment: AssessmentState
    approval: ApprovalState
    granted: list[Approval]
    valid: list[Approval]
    missing: list[str]


def approval_valid(entry: Approval, now: datetime) -> bool:
    """An approver's entry counts now: an approval not yet expired (no expiry counts as expired, as in Rego)."""
    return entry.decision == ApproverDecision.APPROVED and entry.expires_at is not None and entry.expires_at > now


def assessment_state(system: AISystem, requirement: TierRequirement, now: datetime) -> AssessmentState:
    """Where the system's impact assessment stands at `now` under `requirement`."""
    record = decisive_assessment(system.status)
    if record is not None and record.status == AssessmentStatus.COMPLETED:
        horizon = now + timedelta(days=requirement.max_assessment_days)
        fresh = record.expires_at is not None and now < record.expires_at <= horizon
        stale = record.risk_tier is not None and record.risk_tier != system.spec.risk_tier
        state = AssessmentState.VALID
        if not fresh:
            state = AssessmentState.EXPIRED
        elif stale:  # made for another tier: a tier change sends the system back to assessment
            state = AssessmentState.STALE
    else:
        state = AssessmentState.MISSING if record is None else AssessmentState.REJECTED
    if not requirement.require_assessment and state != AssessmentState.VALID:
        return AssessmentState.NOT_REQUIRED
    return state


def _facts(system: AISystem, config: Config, now: datetime) -> _Facts:
    status = system.status
    requirement = config.requirement(system.spec.risk_tier)
    assessment = assessment_state(system, requirement, now)

    barred = conflicted(system)
    horizon = now + timedelta(days=requirement.max_approval_days)
    current = spec_hash(system.spec)
    granted = [
        e
        for e in counted_approvals(status.approvals).values()
        if e.decision == ApproverDecision.APPROVED
        and e.approver.lower() not in barred
        and e.expires_at is not None
        and e.expires_at <= horizon
        and e.spec_hash in (None, current)
    ]
    valid = [e for e in granted if approval_valid(e, now)]
    if not requirement.deployable:
        approval = ApprovalState.NOT_DEPLOYABLE
    elif _suffice(valid, requirement):
        approval = ApprovalState.SUFFICIENT
    elif _suffice(granted, requirement):
        approval = ApprovalState.EXPIRED
    elif len(valid) >= requirement.min_approvals:
        approval = ApprovalState.ROLE_MISSING
    else:
        approval = ApprovalState.MISSING

    return _Facts(
        name=system.metadata.name or "<name>",
        requirement=requirement,
        stage=system.spec.lifecycle.stage if system.spec.lifecycle else None,
        assessment=assessment,
        approval=approval,
        granted=granted,
        valid=valid,
        missing=missing_declarations(system, requirement),
    )


def _phase(facts: _Facts, status: AISystemStatus) -> Phase:
    if not facts.requirement.deployable:
        return Phase.PROHIBITED
    if facts.stage == LifecycleStage.RETIRED or status.retirement is not None:
        return Phase.RETIRED
    if status.suspension is not None and status.suspension.active:
        return Phase.SUSPENDED
    if facts.stage == LifecycleStage.DESIGN and not status.assessment_records and not status.approvals:
        return Phase.DRAFT
    if facts.missing:
        return Phase.INCOMPLETE
    if facts.assessment in (AssessmentState.MISSING, AssessmentState.REJECTED, AssessmentState.STALE):
        return Phase.AWAITING_ASSESSMENT
    if facts.assessment == AssessmentState.EXPIRED or facts.approval == ApprovalState.EXPIRED:
        return Phase.EXPIRED
    if facts.approval != ApprovalState.SUFFICIENT:
        return Phase.AWAITING_APPROVAL
    return Phase.APPROVED


def evaluate(system: AISystem, config: Config, now: datetime) -> Evaluation:
    """Phase, conditions, counts and expiries of `system` at `now` (timezone-aware)."""
    now = now.astimezone(UTC)
    status = system.status
    facts = _facts(system, config, now)
    phase = _phase(facts, status)
    record = decisive_assessment(status)
    expiries = [e.expires_at for e in facts.valid if e.expires_at is not None]
    if facts.assessment == AssessmentState.VALID and record is not None and record.expires_at:
        expiries.append(record.expires_at)

    assessed = _assessment_message(facts, system)
    approved = _approval_message(facts, system)
    suspended = _suspension_message(status, facts.name)
    ready = {
        Phase.PROHIBITED: approved,
        Phase.RETIRED: _retirement_message(status),
        Phase.SUSPENDED: suspended,
        Phase.DRAFT: "lifecycle stage is design; no impact assessment or approval recorded yet",
        Phase.INCOMPLETE: f"risk tier {system.spec.risk_tier} requires {', '.join(facts.missing)} in the spec",
        Phase.AWAITING_ASSESSMENT: assessed,
        Phase.EXPIRED: assessed if facts.assessment == AssessmentState.EXPIRED else approved,
        Phase.AWAITING_APPROVAL: approved,
        Phase.APPROVED: f"may run: {assessed}; {approved}",
    }[phase]
    active = bool(status.suspension and status.suspension.active)
    computed = [
        (ConditionType.IMPACT_ASSESSED, facts.assessment in _ASSESSED, facts.assessment.value, assessed),
        (ConditionType.APPROVED, facts.approval == ApprovalState.SUFFICIENT, facts.approval.value, approved),
        (ConditionType.SUSPENDED, active, _suspension_reason(status), suspended),
        (ConditionType.READY, phase == Phase.APPROVED, phase.value, ready),
    ]
    window = timedelta(days=config.warning_window_days)
    return Evaluation(
        phase=phase,
        previous_phase=status.phase,
        conditions=_merge_conditions(status.conditions, computed, system.metadata.generation, now),
        approved_count=len(facts.valid),
        next_expiry=min(expiries, default=None),
        observed_generation=system.metadata.generation,
        expiring=_expiring(facts, record if facts.assessment == AssessmentState.VALID else None, now, window),
        next_warning=min((e - window for e in expiries if e > now + window), default=None),
    )


def _assessment_message(facts: _Facts, system: AISystem) -> str:
    record = decisive_assessment(system.status)
    renew = f"record one with `kubectl aigov assess {facts.name}`"
    if facts.assessment == AssessmentState.NOT_REQUIRED:
        return f"the {system.spec.risk_tier} tier needs no impact assessment"
    if record is None:
        return f"no impact assessment recorded; {renew}"
    if facts.assessment == AssessmentState.REJECTED:
        return f"the impact assessment by {record.assessor} was rejected; {renew}"
    until = rfc3339(record.expires_at) if record.expires_at else "an unknown time"
    if facts.assessment == AssessmentState.EXPIRED:
        return f"the impact assessment by {record.assessor} expired at {until}; {renew}"
    if facts.assessment == AssessmentState.STALE:
        return (
            f"the impact assessment by {record.assessor} was made for risk tier {record.risk_tier}; "
            f"the system is now risk tier {system.spec.risk_tier}; {renew}"
        )
    return f"impact assessment by {record.assessor}, valid until {until}"


def _approval_message(facts: _Facts, system: AISystem) -> str:
    tier, requirement, valid = system.spec.risk_tier, facts.requirement, facts.valid
    if facts.approval == ApprovalState.NOT_DEPLOYABLE:
        return f"risk tier {tier} is not deployable, so no approval can make it run"
    who = ", ".join(f"{e.approver} ({e.role})" if e.role else e.approver for e in valid) or "nobody"
    if facts.approval == ApprovalState.SUFFICIENT:
        return f"approved by {who}"
    need = f"the {tier} tier needs {requirement.min_approvals} valid approval(s) from distinct approvers"
    if requirement.required_roles:
        need += f", including role {' and '.join(requirement.required_roles)}"
    ask = f"record them with `kubectl aigov approve {facts.name}`"
    if facts.approval == ApprovalState.EXPIRED:
        expired = ", ".join(e.approver for e in facts.granted if e not in valid)
        return f"approvals by {expired} expired; {need}; {ask}"
    if facts.approval == ApprovalState.ROLE_MISSING:
        return f"valid approvals by {who}, but {need}; {ask}"
    return f"{len(valid)} valid approval(s) by {who}; {need}; {ask}"


def _retirement_message(status: AISystemStatus) -> str:
    record = status.retirement
    if record is None:
        return "lifecycle stage is retired; its workloads may not run"
    return f"retired by {record.retired_by} at {rfc3339(record.retired_at)}; its workloads may not run"


def _suspension_reason(status: AISystemStatus) -> str:
    suspension = status.suspension
    if suspension is None or not suspension.active:
        return "Resumed" if suspension is not None and suspension.resumed_at else "NotSuspended"
    reason = suspension.reason or ""
    return reason if re.fullmatch(REASON_PATTERN, reason) else "Suspended"


def _suspension_message(status: AISystemStatus, name: str) -> str:
    suspension = status.suspension
    if suspension is None:
        return "not suspended"
    if not suspension.active:
        if suspension.resumed_at is None:
            return "not suspended"
        by = f" by {suspension.resumed_by}" if suspension.resumed_by else ""
        return f"resumed at {rfc3339(suspension.resumed_at)}{by}"
    parts = ["suspended"]
    if suspension.since:
        parts.append(f"since {rfc3339(suspension.since)}")
    if suspension.check:
        value = f" (value {suspension.value:g})" if suspension.value is not None else ""
        parts.append(f"by check {suspension.check}{value}")
    elif suspension.suspended_by:
        parts.append(f"by {suspension.suspended_by}")
    if suspension.reason:
        parts.append(f"({suspension.reason})")
    return " ".join(parts) + f"; resume with `kubectl aigov resume {name}`"


def _merge_conditions(
    previous: list[Condition],
    computed: list[tuple[ConditionType, bool, str, str]],
    generation: int | None,
    now: datetime,
) -> tuple[Condition, ...]:
    """Our conditions in a fixed order, then any others unchanged; transition times kept when status is."""
    before = {c.type: c for c in previous}
    stamp = now.replace(microsecond=0)
    ours = []
    for kind, truth, reason, message in computed:
        status = ConditionStatus.TRUE if truth else ConditionStatus.FALSE
        old = before.get(kind)
        since = old.last_transition_time if old is not None and old.status == status else stamp
        ours.append(
            Condition(
                type=kind,
                status=status,
                reason=reason,
                message=message,
                last_transition_time=since,
                observed_generation=generation,
            )
        )
    mine = {kind for kind, *_ in computed}
    return (*ours, *(c for c in previous if c.type not in mine))


def _expiring(facts: _Facts, record: ImpactAssessment | None, now: datetime, window: timedelta) -> tuple[Expiring, ...]:
    horizon = now + window
    soon: list[Expiring] = []
    if record is not None and record.expires_at is not None and record.expires_at <= horizon:
        soon.append(
            Expiring(
                reason="AssessmentExpiring",
                subject=record.assessor,
                expires_at=record.expires_at,
                message=f"the impact assessment by {record.assessor} expires at {rfc3339(record.expires_at)}",
            )
        )
    for entry in facts.valid:
        if entry.expires_at is not None and entry.expires_at <= horizon:
            soon.append(
                Expiring(
                    reason="ApprovalExpiring",
                    subject=entry.approver,
                    expires_at=entry.expires_at,
                    message=f"the approval by {entry.approver} expires at {rfc3339(entry.expires_at)}",
                )
            )
    return tuple(sorted(soon, key=lambda e: e.expires_at))


def status_changes(status: AISystemStatus, evaluation: Evaluation) -> dict[str, Any]:
    """The JSON merge patch for `status` with only the operator-owned fields that changed (`{}` if none).

    A field that became empty is set to `None`, which a merge patch deletes.
    """
    wanted: dict[str, Any] = {
        "phase": evaluation.phase.value,
        "conditions": [c.to_dict() for c in evaluation.conditions],
        "observedGeneration": evaluation.observed_generation,
        "approvedCount": evaluation.approved_count,
        "nextExpiry": rfc3339(evaluation.next_expiry) if evaluation.next_expiry else None,
    }
    current = status.to_dict()
    return {key: value for key, value in wanted.items() if current.get(key) != value}
