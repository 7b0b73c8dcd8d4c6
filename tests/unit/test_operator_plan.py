"""What one reconciliation writes and announces: status patches, Events once per change, wake-up times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.core.events import Announcement, EventType
from aigov.core.model import AISystem, BoundWorkload, rfc3339
from aigov.core.reconcile import ReconcilePlan, plan

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CONFIG = Config()
WEB = BoundWorkload(api_version="apps/v1", kind="Deployment", name="web", images=["ollama/ollama:0.6.8"])
BATCH = BoundWorkload(api_version="batch/v1", kind="CronJob", name="batch", images=[])


def at(seconds: float) -> str:
    return rfc3339(NOW + timedelta(seconds=seconds))


DAY = 86400.0


def assessed(expires_in: float = 180 * DAY) -> dict[str, Any]:
    return {"status": "completed", "assessor": "ann", "completedAt": at(-DAY), "expiresAt": at(expires_in)}


def approved(who: str = "alice", expires_in: float = 90 * DAY) -> dict[str, Any]:
    return {"approver": who, "decision": "approved", "decidedAt": at(-60), "expiresAt": at(expires_in)}


def system(status: dict[str, Any] | None = None, tier: str = "limited") -> AISystem:
    spec = {"purpose": "p", "riskTier": tier, "owner": {"name": "team"}, "lifecycle": {"stage": "production"}}
    return AISystem.model_validate({"metadata": {"name": "bot", "generation": 3}, "spec": spec, "status": status or {}})


def applied(before: AISystem, outcome: ReconcilePlan) -> AISystem:
    """`before` with the plan's merge patch written (null deletes a field)."""
    status = before.status.to_dict()
    for key, value in outcome.status.items():
        if value is None:
            status.pop(key, None)
        else:
            status[key] = value
    return system(status, tier=before.spec.risk_tier)


def settled(start: AISystem, workloads: Sequence[BoundWorkload] = ()) -> AISystem:
    """`start` after one reconciliation at NOW."""
    return applied(start, plan(start, workloads, CONFIG, NOW))


def test_a_new_system_gets_its_phase_and_one_normal_event() -> None:
    outcome = plan(system(), [], CONFIG, NOW)
    assert outcome.status["phase"] == "AwaitingAssessment"
    assert outcome.status["observedGeneration"] == 3
    assert {c["type"] for c in outcome.status["conditions"]} == {"ImpactAssessed", "Approved", "Suspended", "Ready"}
    assert "boundWorkloads" not in outcome.status and "expiryWarnings" not in outcome.status
    (event,) = outcome.events
    assert (event.type, event.reason) == (EventType.NORMAL, "AwaitingAssessment")
    assert event.message.startswith("phase AwaitingAssessment: no impact assessment recorded")


def test_a_settled_system_plans_nothing() -> None:
    after = settled(system({"impactAssessment": assessed(), "approvals": [approved()]}), [WEB])
    outcome = plan(after, [WEB], CONFIG, NOW + timedelta(minutes=5))
    assert outcome.status == {}
    assert outcome.events == ()


@pytest.mark.parametrize(
    ("records", "phase"),
    [
        ({"impactAssessment": assessed()}, "AwaitingApproval"),
        ({"impactAssessment": assessed(), "approvals": [approved()]}, "Approved"),
    ],
)
def test_records_move_the_phase_with_a_normal_event(records: dict[str, Any], phase: str) -> None:
    before = settled(system())
    outcome = plan(system({**before.status.to_dict(), **records}), [], CONFIG, NOW)
    assert outcome.status["phase"] == phase
    assert Announcement(EventType.NORMAL, phase, outcome.events[0].message) == outcome.events[0]
    assert outcome.events[0].message.startswith(f"phase AwaitingAssessment -> {phase}: ")


def test_expiry_by_time_alone_is_a_warning() -> None:
    before = settled(system({"impactAssessment": assessed(), "approvals": [approved(expires_in=5)]}))
    assert before.status.phase == "Approved"
    outcome = plan(before, [], CONFIG, NOW + timedelta(seconds=6))
    assert outcome.status["phase"] == "Expired"
    assert outcome.status["approvedCount"] == 0
    assert outcome.status["expiryWarnings"] is None
    (event,) = outcome.events
    assert (event.type, event.reason) == (EventType.WARNING, "Expired")
    assert event.message.startswith("phase Approved -> Expired: approvals by alice expired")


def test_a_prohibited_system_is_announced_with_a_warning() -> None:
    outcome = plan(system(tier="prohibited"), [], CONFIG, NOW)
    assert outcome.status["phase"] == "Prohibited"
    assert [(e.type, e.reason) for e in outcome.events] == [(EventType.WARNING, "Prohibited")]


def test_a_record_entering_the_warning_window_is_announced_once() -> None:
    records = {"impactAssessment": assessed(), "approvals": [approved(expires_in=20 * DAY)]}
    before = settled(system(records))
    assert before.status.expiry_warnings == []

    later = NOW + timedelta(days=7)
    outcome = plan(before, [], CONFIG, later)
    assert outcome.status == {
        "expiryWarnings": [{"reason": "ApprovalExpiring", "subject": "alice", "expiresAt": at(20 * DAY)}]
    }
    (event,) = outcome.events
    assert (event.type, event.reason) == (EventType.WARNING, "ApprovalExpiring")
    assert event.message == f"the approval by alice expires at {at(20 * DAY)} (in 13 days)"

    again = plan(applied(before, outcome), [], CONFIG, later + timedelta(days=1))
    assert (again.status, again.events) == ({}, ())


def test_a_second_expiring_record_is_announced_and_the_first_is_not_repeated() -> None:
    records = {"impactAssessment": assessed(10 * DAY), "approvals": [approved(expires_in=20 * DAY)]}
    first = settled(system(records))
    assert [w.reason for w in first.status.expiry_warnings] == ["AssessmentExpiring"]
    outcome = plan(first, [], CONFIG, NOW + timedelta(days=7))
    assert [e.reason for e in outcome.events] == ["ApprovalExpiring"]
    assert [w["reason"] for w in outcome.status["expiryWarnings"]] == ["AssessmentExpiring", "ApprovalExpiring"]


def test_a_renewed_record_clears_its_warning_silently() -> None:
    warned = settled(system({"impactAssessment": assessed(), "approvals": [approved(expires_in=3 * DAY)]}))
    assert len(warned.status.expiry_warnings) == 1
    renewed = system({**warned.status.to_dict(), "approvals": [approved(), approved(expires_in=100 * DAY)]})
    outcome = plan(renewed, [], CONFIG, NOW)
    assert outcome.status["expiryWarnings"] is None
    assert outcome.events == ()


def test_bound_workloads_are_written_in_order_and_removed_when_gone() -> None:
    base = settled(system())
    outcome = plan(base, [WEB, BATCH, WEB], CONFIG, NOW)
    assert outcome.status == {"boundWorkloads": [WEB.to_dict(), BATCH.to_dict()]}
    assert outcome.events == ()
    bound = applied(base, outcome)
    assert plan(bound, [BATCH], CONFIG, NOW).status == {"boundWorkloads": [BATCH.to_dict()]}
    assert plan(bound, [], CONFIG, NOW).status == {"boundWorkloads": None}


def test_the_next_round_is_due_at_the_next_expiry_or_the_resync_interval() -> None:
    soon = plan(system({"impactAssessment": assessed(), "approvals": [approved(expires_in=5)]}), [], CONFIG, NOW)
    assert soon.seconds_until_due(NOW, 30) == pytest.approx(5.1)
    assert soon.seconds_until_due(NOW) == pytest.approx(5.1)
    assert soon.seconds_until_due(NOW + timedelta(seconds=10), 30) == pytest.approx(0.1)
    assert plan(system(), [], CONFIG, NOW).seconds_until_due(NOW, 30) == 30
    assert plan(system(), [], CONFIG, NOW).seconds_until_due(NOW) is None  # only a change can change it


def test_the_next_round_is_due_when_an_expiry_enters_the_warning_window() -> None:
    window = CONFIG.warning_window_days * DAY
    far = plan(system({"impactAssessment": assessed(), "approvals": [approved()]}), [], CONFIG, NOW)
    assert far.seconds_until_due(NOW) == pytest.approx(90 * DAY - window + 0.1)
    assert far.seconds_until_due(NOW, 30) == 30
    later = NOW + timedelta(seconds=90 * DAY - window + 0.1)
    entered = plan(system({"impactAssessment": assessed(), "approvals": [approved()]}), [], CONFIG, later)
    assert [e.reason for e in entered.evaluation.expiring] == ["ApprovalExpiring"]
    assert entered.seconds_until_due(later) == pytest.approx(window)  # then the expiry itself


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 seconds"), (1, "1 second"), (59, "59 seconds"), (60, "1 minute"), (7200, "2 hours"), (DAY, "1 day")],
)
def test_expiry_warnings_say_how_long_is_left(seconds: float, text: str) -> None:
    records = {"impactAssessment": assessed(), "approvals": [approved(expires_in=seconds + 0.5)]}
    outcome = plan(system(records), [], CONFIG, NOW)
    warning = next(e for e in outcome.events if e.reason == "ApprovalExpiring")
    assert warning.message.endswith(f"(in {text})")
