"""The status patches behind `aigov assess|approve|revoke|suspend|resume`."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.core.model import AISystem, ApproverDecision, ResidualRisk
from aigov.core.records import (
    RecordError,
    approval_patch,
    assessment_patch,
    resume_patch,
    revocation_patch,
    suspension_patch,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IMAGES = ["vllm/vllm-openai@sha256:" + "a" * 64]
SHA = "AB" * 32


def _system(status: dict[str, Any] | None = None, images: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "chat", "namespace": "team", "resourceVersion": "42"},
        "spec": {"purpose": "answers questions", "riskTier": "limited", "images": IMAGES if images is None else images},
    }
    if status is not None:
        obj["status"] = status
    return obj


def _approved(approver: str = "alice") -> dict[str, Any]:
    return {
        "approver": approver,
        "role": "risk-officer",
        "decision": "approved",
        "decidedAt": "2026-02-01T00:00:00Z",
        "expiresAt": "2026-08-01T00:00:00Z",
        "images": IMAGES,
    }


def _apply(obj: dict[str, Any], patch: list[dict[str, Any]]) -> AISystem:
    """Apply the add/replace/remove ops these builders use (RFC 6902 subset) and read the result."""
    doc = copy.deepcopy(obj)
    for op in patch:
        *parents, last = op["path"].lstrip("/").split("/")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if op["op"] == "remove":
            del node[last]
        elif isinstance(node, list):
            node.append(op["value"]) if last == "-" else node.insert(int(last), op["value"])
        else:
            node[last] = op["value"]
    return AISystem.model_validate(doc)


def test_every_patch_pins_the_resource_version() -> None:
    patch = approval_patch(
        _system(), approver="bob", now=NOW, role="r", expires_in=timedelta(days=1), justification="j"
    )
    assert patch[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "42"}


def test_assessment_creates_status_when_there_is_none() -> None:
    patch = assessment_patch(
        _system(),
        assessor="carol",
        now=NOW,
        reference="https://docs/fria",
        sha256=SHA,
        residual_risk=ResidualRisk.LOW,
        expires_in=timedelta(days=365),
    )
    assert patch[1]["path"] == "/status"
    (record,) = _apply(_system(), patch).status.assessments
    assert (record.assessor, record.status, record.residual_risk) == ("carol", "completed", "low")
    assert record.completed_at == NOW
    assert record.expires_at == NOW + timedelta(days=365)
    assert record.sha256 == SHA.lower()
    assert record.risk_tier == "limited"
    assert patch[1]["value"]["assessments"][0]["riskTier"] == "limited"


def test_assessment_records_the_tier_as_read_so_a_reassessment_after_a_tier_change_names_the_new_one() -> None:
    obj = _system(
        {
            "impactAssessment": {
                "status": "completed",
                "assessor": "x",
                "completedAt": "2025-01-01T00:00:00Z",
                "expiresAt": "2027-01-01T00:00:00Z",
                "riskTier": "high",
            }
        }
    )
    obj["spec"]["riskTier"] = "minimal"
    patch = assessment_patch(
        obj,
        assessor="carol",
        now=NOW,
        reference="https://docs/fria",
        sha256=SHA,
        residual_risk=ResidualRisk.LOW,
        expires_in=timedelta(days=30),
    )
    assert patch[1] == {"op": "add", "path": "/status/assessments", "value": [patch[1]["value"][0]]}
    assert patch[1]["value"][0]["riskTier"] == "minimal"
    (record,) = _apply(obj, patch).status.assessments
    assert record.risk_tier == "minimal"


def test_assessment_is_appended_after_earlier_ones_and_may_be_rejected_without_expiry() -> None:
    earlier = {"status": "completed", "assessor": "x", "completedAt": "2025-01-01T00:00:00Z", "riskTier": "limited"}
    obj = _system({"impactAssessment": earlier, "assessments": [earlier]})
    patch = assessment_patch(
        obj,
        assessor="carol",
        now=NOW,
        reference="https://docs/fria",
        sha256=SHA,
        residual_risk=ResidualRisk.HIGH,
        expires_in=None,
        rejected=True,
    )
    assert patch[1] == {"op": "add", "path": "/status/assessments/-", "value": patch[1]["value"]}
    status = _apply(obj, patch).status
    assert status.impact_assessment is not None
    first, record = status.assessments
    assert first.assessor == "x"
    assert (record.assessor, record.status, record.expires_at) == ("carol", "rejected", None)


def test_completed_assessment_needs_an_expiry() -> None:
    with pytest.raises(RecordError, match="expiry"):
        assessment_patch(
            _system(),
            assessor="c",
            now=NOW,
            reference="https://d",
            sha256=SHA,
            residual_risk=ResidualRisk.LOW,
            expires_in=None,
        )


def test_approval_appends_a_snapshot_of_the_images() -> None:
    obj = _system({"approvals": [_approved()], "phase": "AwaitingApproval"})
    patch = approval_patch(obj, approver="bob", now=NOW, role="cto", expires_in=timedelta(days=180), justification="ok")
    assert patch[1]["op"] == "add"
    assert patch[1]["path"] == "/status/approvals/-"
    approvals = _apply(obj, patch).status.approvals
    assert [a.approver for a in approvals] == ["alice", "bob"]
    assert approvals[-1].images == IMAGES
    assert approvals[-1].expires_at == NOW + timedelta(days=180)
    assert (approvals[-1].role, approvals[-1].justification) == ("cto", "ok")


def test_first_approval_starts_the_list() -> None:
    obj = _system({"phase": "AwaitingApproval"})
    patch = approval_patch(obj, approver="bob", now=NOW, role="r", expires_in=timedelta(days=1), justification="j")
    assert patch[1]["path"] == "/status/approvals"
    assert len(_apply(obj, patch).status.approvals) == 1


def test_nothing_to_approve_without_images() -> None:
    with pytest.raises(RecordError, match=r"spec\.images is empty"):
        approval_patch(
            _system(images=[]), approver="b", now=NOW, role="r", expires_in=timedelta(days=1), justification="j"
        )


def test_revocation_appends_a_revoked_entry_with_the_role() -> None:
    obj = _system({"approvals": [_approved()]})
    patch = revocation_patch(obj, approver="alice", now=NOW, justification="model changed")
    entry = _apply(obj, patch).status.approvals[-1]
    assert (entry.decision, entry.role, entry.expires_at, entry.images) == (
        ApproverDecision.REVOKED,
        "risk-officer",
        None,
        [],
    )


@pytest.mark.parametrize("approvals", [[], [{**_approved(), "decision": "revoked", "expiresAt": None}]])
def test_revoking_needs_an_approval_on_record(approvals: list[dict[str, Any]]) -> None:
    with pytest.raises(RecordError, match="no approval on record"):
        revocation_patch(_system({"approvals": approvals}), approver="alice", now=NOW, justification="j")


def test_suspension_writes_only_the_request_fields() -> None:
    obj = _system({"phase": "Approved"})
    patch = suspension_patch(obj, user="dave", now=NOW, reason="complaint #12")
    assert patch[1] == {
        "op": "add",
        "path": "/status/suspension",
        "value": {"active": True, "since": "2026-03-01T12:00:00Z", "reason": "complaint #12", "suspendedBy": "dave"},
    }


def test_suspension_after_a_resumed_one_clears_the_resume_fields() -> None:
    old = {"active": False, "since": "2026-01-01T00:00:00Z", "reason": "x", "suspendedBy": "eve"}
    old |= {"resumedAt": "2026-01-02T00:00:00Z", "resumedBy": "eve", "justification": "fixed"}
    obj = _system({"suspension": old})
    suspension = _apply(obj, suspension_patch(obj, user="dave", now=NOW, reason="again")).status.suspension
    assert suspension is not None
    assert (suspension.active, suspension.suspended_by, suspension.since) == (True, "dave", NOW)
    assert (suspension.resumed_at, suspension.resumed_by, suspension.justification) == (None, None, None)


def test_cannot_suspend_twice() -> None:
    obj = _system({"suspension": {"active": True, "since": "2026-01-01T00:00:00Z", "reason": "CheckBreached"}})
    with pytest.raises(RecordError, match="already suspended since 2026-01-01T00:00:00Z"):
        suspension_patch(obj, user="dave", now=NOW, reason="r")


def test_resume_records_who_when_and_why() -> None:
    obj = _system({"suspension": {"active": True, "since": "2026-01-01T00:00:00Z", "previousReplicas": []}})
    suspension = _apply(obj, resume_patch(obj, user="eve", now=NOW, justification="fixed")).status.suspension
    assert suspension is not None
    assert (suspension.active, suspension.resumed_by, suspension.resumed_at) == (False, "eve", NOW)
    assert suspension.justification == "fixed"


@pytest.mark.parametrize("status", [None, {"suspension": {"active": False}}])
def test_cannot_resume_what_is_not_suspended(status: dict[str, Any] | None) -> None:
    with pytest.raises(RecordError, match="not suspended"):
        resume_patch(_system(status), user="eve", now=NOW, justification="j")
