"""The governance summary and timeline behind `aigov status` and `aigov history`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.core.views import age, status_row, summary, timeline

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _system(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "scoring",
            "namespace": "lending",
            "uid": "u1",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"purpose": "credit scoring", "riskTier": "high", "owner": {"name": "Lending DS"}},
        "status": status,
    }


STATUS: dict[str, Any] = {
    "phase": "Suspended",
    "impactAssessment": {
        "status": "completed",
        "assessor": "carol",
        "completedAt": "2026-01-10T00:00:00Z",
        "expiresAt": "2027-01-10T00:00:00Z",
        "reference": "https://docs/fria",
        "residualRisk": "low",
    },
    "approvals": [
        {"approver": "alice", "role": "risk-officer", "decision": "approved", "decidedAt": "2026-01-11T00:00:00Z",
         "expiresAt": "2026-07-11T00:00:00Z", "justification": "ok"},
        {"approver": "bob", "role": "cto", "decision": "approved", "decidedAt": "2026-01-12T00:00:00Z",
         "expiresAt": "2026-02-12T00:00:00Z"},
        {"approver": "alice", "role": "risk-officer", "decision": "approved", "decidedAt": "2026-01-13T00:00:00Z",
         "expiresAt": "2026-03-05T00:00:00Z"},
    ],
    "suspensionHistory": [
        {"active": False, "since": "2026-01-20T00:00:00Z", "reason": "CheckBreached", "check": "psi", "value": 0.31,
         "resumedAt": "2026-01-21T00:00:00Z", "resumedBy": "bob", "justification": "retrained"},
    ],
    "suspension": {"active": True, "since": "2026-02-20T00:00:00Z", "reason": "complaint", "suspendedBy": "dave"},
    "boundWorkloads": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "scorer", "images": ["x@sha256:1"]}],
    "nextExpiry": "2026-03-05T00:00:00Z",
    "conditions": [
        {"type": "Ready", "status": "False", "reason": "Suspended", "message": "suspended since …",
         "lastTransitionTime": "2026-02-20T00:00:01Z"},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=3, hours=2), "in 3d"),
        (-timedelta(hours=5, minutes=1), "5h ago"),
        (timedelta(minutes=7), "in 7m"),
        (-timedelta(seconds=9), "9s ago"),
    ],
)
def test_age(delta: timedelta, text: str) -> None:
    assert age(NOW + delta, NOW) == text


def test_summary_counts_each_approvers_last_entry() -> None:
    view = summary(_system(STATUS), Config(), NOW)
    assert [(a["approver"], a["expiresAt"], a["valid"]) for a in view["approvals"]] == [
        ("bob", "2026-02-12T00:00:00Z", False),
        ("alice", "2026-03-05T00:00:00Z", True),
    ]
    assert view["required"] == {"approvals": 2, "roles": ["risk-officer"]}
    assert view["assessment"]["valid"] is True
    assert (view["riskTier"], view["phase"], view["owner"]) == ("high", "Suspended", "Lending DS")


def test_status_row() -> None:
    row = status_row(summary(_system(STATUS), Config(), NOW), NOW)
    assert row == ["scoring", "high", "Suspended", "carol, until 2027-01-10", "1/2", "yes", "1", "in 3d"]


def test_status_row_of_a_fresh_system() -> None:
    row = status_row(summary(_system({}), Config(), NOW), NOW)
    assert row == ["scoring", "high", "-", "-", "0/2", "-", "0", "-"]


def test_status_row_of_an_expired_or_rejected_assessment() -> None:
    expired = {**STATUS["impactAssessment"], "expiresAt": "2026-02-27T12:00:00Z"}
    assert status_row(summary(_system({"impactAssessment": expired}), Config(), NOW), NOW)[3] == "carol, expired 2d ago"
    rejected = {**STATUS["impactAssessment"], "status": "rejected"}
    assert status_row(summary(_system({"impactAssessment": rejected}), Config(), NOW), NOW)[3] == "rejected (carol)"


def test_timeline_merges_records_and_events_in_time_order() -> None:
    events: list[dict[str, Any]] = [
        {"reason": "Approved", "type": "Normal", "message": "phase AwaitingApproval → Approved", "count": 1,
         "lastTimestamp": "2026-01-13T00:00:05Z", "involvedObject": {"uid": "u1"}, "source": {"component": "aigov"}},
        {"reason": "Expiring", "type": "Warning", "message": "approval by alice expires", "count": 3,
         "eventTime": "2026-02-25T00:00:00.123456Z", "involvedObject": {"uid": "u1"}, "reportingComponent": "aigov"},
        {"reason": "Old", "type": "Normal", "message": "an earlier namesake", "lastTimestamp": "2026-01-02T00:00:00Z",
         "involvedObject": {"uid": "other"}},
    ]  # fmt: skip
    entries = timeline(_system(STATUS), events)
    assert [(e.what, e.actor) for e in entries] == [
        ("created", ""),
        ("assessment completed", "carol"),
        ("approved", "alice"),
        ("approved", "bob"),
        ("approved", "alice"),
        ("event: Approved", "aigov"),
        ("suspended", "operator"),
        ("resumed", "bob"),
        ("suspended", "dave"),
        ("phase Suspended", "operator"),
        ("warning: Expiring", "aigov"),
    ]
    details = {e.what: e.detail for e in entries}
    assert details["suspended"] == "complaint"
    assert details["resumed"] == "retrained"
    assert details["warning: Expiring"] == "approval by alice expires (x3)"
    assert entries[1].detail == "residual risk low, until 2027-01-10T00:00:00Z, https://docs/fria"
    drift = next(e for e in entries if e.actor == "operator" and e.what == "suspended")
    assert drift.detail == "CheckBreached; check psi = 0.31"
    assert entries[0].to_dict()["time"] == "2026-01-01T00:00:00Z"


def test_an_assessment_made_for_another_tier_is_not_shown_valid() -> None:
    fresh = summary(_system(STATUS), Config(), NOW)
    stale_status = {**STATUS, "impactAssessment": {**STATUS["impactAssessment"], "riskTier": "limited"}}
    stale = summary(_system(stale_status), Config(), NOW)
    assert fresh["assessment"]["valid"] is True
    assert stale["assessment"]["valid"] is False
