"""The lifecycle truth table: phase, conditions and expiries from records and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from aigov.core.config import Config, RiskTier, TierRequirement
from aigov.core.lifecycle import Evaluation, counted_approvals, evaluate, status_changes
from aigov.core.model import AISystem, AISystemStatus, Approval, ConditionStatus, Phase, rfc3339

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CONFIG = Config()


def at(days: float) -> str:
    return rfc3339(NOW + timedelta(days=days))


def assessment(expires_in: float = 180, status: str = "completed") -> dict[str, Any]:
    return {"status": status, "assessor": "ann", "completedAt": at(-10), "expiresAt": at(expires_in)}


def approval(who: str, role: str | None = None, expires_in: float = 90, decision: str = "approved") -> dict[str, Any]:
    entry: dict[str, Any] = {"approver": who, "decision": decision, "decidedAt": at(-5)}
    if role:
        entry["role"] = role
    if decision == "approved":
        entry["expiresAt"] = at(expires_in)
    return entry


CLASSIFIED = {"roles": ["deployer"], "rationale": "Annex III(4)(a)"}


def system(
    tier: str = "limited",
    stage: str | None = "production",
    status: dict[str, Any] | None = None,
    generation: int = 1,
    classification: dict[str, Any] | None = CLASSIFIED,
) -> AISystem:
    spec: dict[str, Any] = {"purpose": "p", "riskTier": tier, "owner": {"name": "team"}}
    if classification:
        spec["classification"] = classification
    if stage:
        spec["lifecycle"] = {"stage": stage}
    return AISystem.model_validate(
        {"metadata": {"name": "bot", "generation": generation}, "spec": spec, "status": status or {}}
    )


def conditions(ev: Evaluation) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status.value, c.reason) for c in ev.conditions}


def records(assessed: dict[str, Any] | None, *entries: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A status with an assessment (or none), approvals and any other fields."""
    status: dict[str, Any] = {"approvals": list(entries), **extra}
    if assessed is not None:
        status["impactAssessment"] = assessed
    return status


OK, STALE, REJECTED = assessment(), assessment(-1), assessment(status="rejected")
ALICE, RITA, BOB = approval("alice"), approval("rita", "risk-officer"), approval("bob", "product-owner")
ACTIVE = {"active": True, "reason": "CheckBreached"}
P = Phase
PHASES = [
    ("design-without-records-is-draft", "limited", "design", {}, P.DRAFT),
    ("design-with-records", "limited", "design", records(OK), P.AWAITING_APPROVAL),
    ("no-lifecycle", "limited", None, {}, P.AWAITING_ASSESSMENT),
    ("no-assessment", "limited", "production", {}, P.AWAITING_ASSESSMENT),
    ("rejected", "limited", "production", records(REJECTED, ALICE), P.AWAITING_ASSESSMENT),
    ("approval-without-assessment", "limited", "production", records(None, ALICE), P.AWAITING_ASSESSMENT),
    ("no-approval", "limited", "production", records(OK), P.AWAITING_APPROVAL),
    ("limited-approved", "limited", "production", records(OK, ALICE), P.APPROVED),
    ("minimal-approved", "minimal", "validation", records(OK, ALICE), P.APPROVED),
    ("assessment-expired", "limited", "production", records(STALE, ALICE), P.EXPIRED),
    ("approval-expired", "limited", "production", records(OK, approval("alice", expires_in=-1)), P.EXPIRED),
    ("suspended", "limited", "production", records(OK, ALICE, suspension=ACTIVE), P.SUSPENDED),
    ("resumed", "limited", "production", records(OK, ALICE, suspension={"active": False}), P.APPROVED),
    ("retired-beats-approved", "limited", "retired", records(OK, ALICE), P.RETIRED),
    ("retired-beats-suspended", "limited", "retired", records(OK, ALICE, suspension=ACTIVE), P.RETIRED),
    ("prohibited-whatever-approvals", "prohibited", "production", records(OK, ALICE), P.PROHIBITED),
    ("prohibited-beats-retired", "prohibited", "retired", {}, P.PROHIBITED),
    ("high-approved", "high", "production", records(OK, RITA, BOB), P.APPROVED),
    ("high-one-approval", "high", "production", records(OK, RITA), P.AWAITING_APPROVAL),
    ("high-without-risk-officer", "high", "production", records(OK, ALICE, BOB), P.AWAITING_APPROVAL),
    ("high-same-approver-twice", "high", "production", records(OK, RITA, RITA), P.AWAITING_APPROVAL),
]


@pytest.mark.parametrize(("tier", "stage", "status", "phase"), [r[1:] for r in PHASES], ids=[r[0] for r in PHASES])
def test_phase(tier: str, stage: str | None, status: dict[str, Any], phase: Phase) -> None:
    assert evaluate(system(tier, stage, status), CONFIG, NOW).phase == phase


def test_approved_conditions_and_counts() -> None:
    ev = evaluate(system("high", status=records(OK, RITA, BOB)), CONFIG, NOW)
    assert conditions(ev) == {
        "ImpactAssessed": ("True", "AssessmentCompleted"),
        "Approved": ("True", "ApprovalsValid"),
        "Suspended": ("False", "NotSuspended"),
        "Ready": ("True", "Approved"),
    }
    assert ev.approved_count == 2
    assert ev.next_expiry == NOW + timedelta(days=90)
    assert ev.observed_generation == 1
    assert all(c.observed_generation == 1 and c.last_transition_time == NOW for c in ev.conditions)
    assert "rita (risk-officer)" in ev.message and "bob" in ev.message


def test_missing_role_is_named() -> None:
    ev = evaluate(
        system("high", status={"impactAssessment": assessment(), "approvals": [approval("a"), approval("b")]}),
        CONFIG,
        NOW,
    )
    assert conditions(ev)["Approved"] == ("False", "ApprovalRoleMissing")
    assert ev.approved_count == 2
    assert "risk-officer" in ev.message and "kubectl aigov approve bot" in ev.message


def test_same_approver_twice_counts_once() -> None:
    entries = [approval("rita", "risk-officer"), approval("rita", "risk-officer")]
    ev = evaluate(system("high", status={"impactAssessment": assessment(), "approvals": entries}), CONFIG, NOW)
    assert (ev.approved_count, conditions(ev)["Approved"]) == (1, ("False", "ApprovalsMissing"))


def test_revoked_approval_no_longer_counts() -> None:
    entries = [RITA, BOB, approval("bob", decision="revoked")]
    ev = evaluate(system("high", status={"impactAssessment": assessment(), "approvals": entries}), CONFIG, NOW)
    assert (ev.phase, ev.approved_count) == (Phase.AWAITING_APPROVAL, 1)


def test_an_approvers_last_entry_wins() -> None:
    again = [approval("alice", decision="revoked"), approval("alice")]
    assert (
        evaluate(system(status={"impactAssessment": assessment(), "approvals": again}), CONFIG, NOW).phase
        == Phase.APPROVED
    )
    shorter = [approval("alice", expires_in=300), approval("alice", expires_in=-1)]
    ev = evaluate(system(status={"impactAssessment": assessment(), "approvals": shorter}), CONFIG, NOW)
    assert (ev.phase, ev.approved_count) == (Phase.EXPIRED, 0)
    assert counted_approvals([Approval.model_validate(e) for e in shorter])["alice"].expires_at == NOW - timedelta(
        days=1
    )


def test_time_alone_expires_an_approved_system() -> None:
    sys = system(status={"impactAssessment": assessment(), "approvals": [approval("alice", expires_in=30)]})
    assert evaluate(sys, CONFIG, NOW + timedelta(days=29)).phase == Phase.APPROVED
    later = evaluate(sys, CONFIG, NOW + timedelta(days=30))  # expiresAt > now, so at the instant it is gone
    assert later.phase == Phase.EXPIRED
    assert conditions(later)["Approved"] == ("False", "ApprovalsExpired")
    assert "approvals by alice expired" in later.message
    assert later.next_expiry == NOW + timedelta(days=180)


def test_expired_assessment_is_explained() -> None:
    ev = evaluate(system(status={"impactAssessment": assessment(-1), "approvals": [approval("alice")]}), CONFIG, NOW)
    assert conditions(ev)["ImpactAssessed"] == ("False", "AssessmentExpired")
    assert "expired at" in ev.message and "kubectl aigov assess bot" in ev.message
    assert ev.next_expiry == NOW + timedelta(days=90)


def assessed_for(tier: str, expires_in: float = 180) -> dict[str, Any]:
    return {**assessment(expires_in), "riskTier": tier}


def test_assessment_made_for_another_tier_is_stale_like_in_the_policies() -> None:
    # Assessed (and approved) as high risk, then spec.riskTier lowered to minimal.
    ev = evaluate(system("minimal", status=records(assessed_for("high"), approval("alice"))), CONFIG, NOW)
    assert ev.phase == Phase.AWAITING_ASSESSMENT
    assert conditions(ev)["ImpactAssessed"] == ("False", "AssessmentStale")
    assert conditions(ev)["Ready"] == ("False", "AwaitingAssessment")
    assert "made for risk tier high; the system is now risk tier minimal" in ev.message
    assert "kubectl aigov assess bot" in ev.message
    assert ev.next_expiry == NOW + timedelta(days=90)  # the stale assessment's expiry no longer counts
    soon = evaluate(system("minimal", status=records(assessed_for("high", 5), approval("alice"))), CONFIG, NOW)
    assert all(e.reason != "AssessmentExpiring" for e in soon.expiring)  # no renewal nag for a stale one


def test_assessment_for_the_current_tier_or_without_one_is_valid() -> None:
    for assessed in (assessed_for("minimal"), assessment()):
        ev = evaluate(system("minimal", status=records(assessed, approval("alice"))), CONFIG, NOW)
        assert ev.phase == Phase.APPROVED
        assert conditions(ev)["ImpactAssessed"] == ("True", "AssessmentCompleted")


def test_expired_beats_stale_and_a_tier_without_assessment_needs_none() -> None:
    ev = evaluate(system("minimal", status=records(assessed_for("high", -1), approval("alice"))), CONFIG, NOW)
    assert (ev.phase, conditions(ev)["ImpactAssessed"]) == (Phase.EXPIRED, ("False", "AssessmentExpired"))
    config = Config(
        tiers={**CONFIG.tiers, RiskTier.MINIMAL: TierRequirement(min_approvals=1, require_assessment=False)}
    )
    ev = evaluate(system("minimal", status=records(assessed_for("high"), approval("alice"))), config, NOW)
    assert (ev.phase, conditions(ev)["ImpactAssessed"]) == (Phase.APPROVED, ("True", "AssessmentNotRequired"))


def test_high_tier_approval_expiry_with_remaining_non_officer_is_expired() -> None:
    entries = [approval("rita", "risk-officer", expires_in=-1), approval("bob"), approval("carol")]
    ev = evaluate(system("high", status={"impactAssessment": assessment(), "approvals": entries}), CONFIG, NOW)
    assert (ev.phase, ev.approved_count) == (Phase.EXPIRED, 2)


def test_suspension_condition_carries_the_reason() -> None:
    suspension = {"active": True, "since": at(-1), "reason": "CheckBreached", "check": "psi", "value": 0.31}
    ev = evaluate(system(status=records(OK, ALICE, suspension=suspension)), CONFIG, NOW)
    assert conditions(ev)["Suspended"] == ("True", "CheckBreached")
    assert conditions(ev)["Ready"] == ("False", "Suspended")
    assert "check psi (value 0.31)" in ev.message and "kubectl aigov resume bot" in ev.message
    odd = evaluate(system(status=records(OK, ALICE, suspension={"active": True, "reason": "drift!"})), CONFIG, NOW)
    assert conditions(odd)["Suspended"] == ("True", "Suspended")


def test_prohibited_is_never_approved() -> None:
    ev = evaluate(system("prohibited", status=records(OK, ALICE)), CONFIG, NOW)
    assert conditions(ev)["Approved"] == ("False", "NotDeployable")
    assert "not deployable" in ev.message


def test_tier_requirements_come_from_config() -> None:
    lenient = Config(
        tiers={**CONFIG.tiers, RiskTier.MINIMAL: TierRequirement(require_assessment=False, min_approvals=0)}
    )
    ev = evaluate(system("minimal"), lenient, NOW)
    assert ev.phase == Phase.APPROVED
    assert conditions(ev)["ImpactAssessed"] == ("True", "AssessmentNotRequired")
    strict = Config(tiers={**CONFIG.tiers, RiskTier.LIMITED: TierRequirement(min_approvals=2)})
    assert evaluate(system(status=records(OK, ALICE)), strict, NOW).phase == Phase.AWAITING_APPROVAL


def test_expiring_soon_lists_valid_records_inside_the_window() -> None:
    status = {
        "impactAssessment": assessment(10),
        "approvals": [approval("alice", expires_in=3), approval("bob", expires_in=60), approval("old", expires_in=-1)],
    }
    ev = evaluate(system(status=status), CONFIG, NOW)
    assert [(e.reason, e.subject, e.expires_at) for e in ev.expiring] == [
        ("ApprovalExpiring", "alice", NOW + timedelta(days=3)),
        ("AssessmentExpiring", "ann", NOW + timedelta(days=10)),
    ]
    assert ev.next_expiry == NOW + timedelta(days=3)
    assert evaluate(system(status=status), Config(warning_window_days=0), NOW).expiring == ()


def _applied(status: AISystemStatus, patch: dict[str, Any]) -> AISystemStatus:
    merged = {**status.to_dict(), **patch}
    return AISystemStatus.model_validate({k: v for k, v in merged.items() if v is not None})


def test_transition_times_are_kept_while_status_holds() -> None:
    first = system(status={"impactAssessment": assessment()})
    ev1 = evaluate(first, CONFIG, NOW)
    status = _applied(first.status, status_changes(first.status, ev1))
    assert status_changes(status, ev1) == {}

    later = NOW + timedelta(hours=5, microseconds=1234)
    same = evaluate(first.model_copy(update={"status": status}), CONFIG, later)
    assert status_changes(status, same) == {}
    assert [c.last_transition_time for c in same.conditions] == [NOW] * 4

    status = status.model_copy(update={"approvals": [Approval.model_validate(approval("alice"))]})
    ev2 = evaluate(first.model_copy(update={"status": status}), CONFIG, later)
    times = {c.type: c.last_transition_time for c in ev2.conditions}
    assert times == {
        "ImpactAssessed": NOW,
        "Approved": later.replace(microsecond=0),
        "Suspended": NOW,
        "Ready": later.replace(microsecond=0),
    }
    changes = status_changes(status, ev2)
    assert set(changes) == {"phase", "conditions", "approvedCount", "nextExpiry"}
    assert changes["phase"] == "Approved" and ev2.previous_phase == Phase.AWAITING_APPROVAL


def test_only_changed_fields_are_patched_and_emptied_ones_deleted() -> None:
    sys = system(status={"impactAssessment": assessment(), "approvals": [approval("alice", expires_in=1)]})
    ev = evaluate(sys, CONFIG, NOW)
    status = _applied(sys.status, status_changes(sys.status, ev))
    assert status.next_expiry == NOW + timedelta(days=1)
    gone = evaluate(sys.model_copy(update={"status": status}), CONFIG, NOW + timedelta(days=2))
    changes = status_changes(status, gone)
    assert changes["approvedCount"] == 0
    assert changes["nextExpiry"] == rfc3339(NOW + timedelta(days=180))
    bumped = sys.model_copy(update={"status": status, "metadata": sys.metadata.model_copy(update={"generation": 2})})
    assert set(status_changes(status, evaluate(bumped, CONFIG, NOW))) == {"conditions", "observedGeneration"}
    revoked = system(status={"approvals": [approval("alice", decision="revoked")], "nextExpiry": at(1)})
    assert status_changes(revoked.status, evaluate(revoked, CONFIG, NOW))["nextExpiry"] is None


def test_foreign_conditions_are_kept() -> None:
    foreign = {"type": "Monitored", "status": "True", "reason": "ChecksHealthy", "lastTransitionTime": at(-3)}
    ev = evaluate(system(status={"conditions": [foreign]}), CONFIG, NOW)
    assert [c.type for c in ev.conditions] == ["ImpactAssessed", "Approved", "Suspended", "Ready", "Monitored"]
    assert ev.conditions[-1].status == ConditionStatus.TRUE


def test_an_offset_now_is_the_same_instant() -> None:
    sys = system(status=records(OK, ALICE))
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    assert evaluate(sys, CONFIG, plus_two) == evaluate(sys, CONFIG, NOW)


def test_an_approval_without_expiry_never_counts_like_in_the_policies() -> None:
    entry = {k: v for k, v in ALICE.items() if k != "expiresAt"}
    ev = evaluate(system(status=records(OK, entry)), CONFIG, NOW)
    assert (ev.phase, ev.approved_count) == (Phase.AWAITING_APPROVAL, 0)  # no term: outside the tier's maximum


def test_an_approval_beyond_the_tiers_maximum_term_never_counts() -> None:
    entry = ALICE | {
        "expiresAt": rfc3339(NOW + timedelta(days=CONFIG.requirement(RiskTier.MINIMAL).max_approval_days + 1))
    }
    ev = evaluate(system(status=records(OK, entry)), CONFIG, NOW)
    assert (ev.phase, ev.approved_count) == (Phase.AWAITING_APPROVAL, 0)


def test_a_standing_rejection_blocks_until_its_own_assessor_supersedes_it() -> None:
    rejected = assessment(status="rejected") | {"assessor": "ann"}
    dora = assessment() | {"assessor": "dora", "riskTier": "limited"}
    ev = evaluate(system(status={"assessments": [rejected, dora], "approvals": [approval("bob")]}), CONFIG, NOW)
    assert ev.phase == Phase.AWAITING_ASSESSMENT
    assert "the impact assessment by ann was rejected" in ev.message
    ann = assessment() | {"riskTier": "limited"}
    status = {"assessments": [rejected, dora, ann], "approvals": [approval("bob")]}
    assert evaluate(system(status=status), CONFIG, NOW).phase == Phase.APPROVED


def test_a_retirement_record_retires_whatever_the_stage() -> None:
    retired = {"retiredBy": "bob", "retiredAt": at(-1), "justification": "replaced"}
    ev = evaluate(system(status=records(assessment(), approval("bob"), retirement=retired)), CONFIG, NOW)
    assert ev.phase == Phase.RETIRED
    assert ev.message.startswith("retired by bob at ")


@pytest.mark.parametrize(
    ("classification", "missing"),
    [(None, "spec.classification"), ({"roles": ["provider"], "rationale": "r"}, "spec.classification.euDatabaseId")],
)
def test_a_high_risk_system_without_its_classification_is_incomplete(
    classification: dict[str, Any] | None, missing: str
) -> None:
    approved = {"impactAssessment": assessment(), "approvals": [approval("ann", "risk-officer"), approval("bo")]}
    ev = evaluate(system("high", status=approved, classification=classification), Config(), NOW)
    assert ev.phase == Phase.INCOMPLETE
    assert ev.message == f"risk tier high requires {missing} in the spec"
