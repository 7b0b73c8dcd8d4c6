"""Parity: the operator's phase (`lifecycle.evaluate`) and the real OPA's decision agree on one table of records.

Each case is an AISystem; the operator must say `Approved` exactly when OPA admits
a Deployment of the system's image, so a system the webhook refuses is never shown
as approved, and the other way round.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.core.lifecycle import evaluate
from aigov.core.model import AISystem, Phase
from aigov.policy.input import Namespace, admission_request, build
from aigov.policy.opa import PolicyClient
from devkit.devcluster import OpaServer

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LATER = "2026-12-01T00:00:00Z"
EARLIER = "2026-05-01T00:00:00Z"
VLLM = "vllm/vllm-openai:v0.6.3"
OWNER = {"name": "Model Team", "email": "Owner@Example.com"}


def entry(approver: str, *, expires: str = LATER, decision: str = "approved") -> dict[str, Any]:
    base = {"approver": approver, "role": "lead", "decision": decision, "decidedAt": EARLIER, "expiresAt": expires}
    return base | {"images": [VLLM]}


def assessed(assessor: str = "alice") -> dict[str, Any]:
    return {"status": "completed", "assessor": assessor, "completedAt": EARLIER, "expiresAt": LATER}


def listed(assessor: str, status: str = "completed", *, tier: str = "minimal", expires: str = LATER) -> dict[str, Any]:
    """An entry of `status.assessments` (with the tier assessed, as `aigov assess` writes it)."""
    return {"status": status, "assessor": assessor, "completedAt": EARLIER, "expiresAt": expires, "riskTier": tier}


CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "approved": ({"impactAssessment": assessed(), "approvals": [entry("bob")]}, True),
    "approver later assessed": ({"impactAssessment": assessed("dora"), "approvals": [entry("dora")]}, False),
    "assessor plus another": (
        {"impactAssessment": assessed("dora"), "approvals": [entry("dora"), entry("bob")]},
        True,
    ),
    "approved by the owner's email": (
        {"impactAssessment": assessed(), "approvals": [entry("owner@example.com")]},
        False,
    ),
    "approved by the owner's name": ({"impactAssessment": assessed(), "approvals": [entry("model team")]}, False),
    "expired": ({"impactAssessment": assessed(), "approvals": [entry("bob", expires=EARLIER)]}, False),
    "revoked": ({"impactAssessment": assessed(), "approvals": [entry("bob"), entry("bob", decision="revoked")]}, False),
    "no assessment": ({"approvals": [entry("bob")]}, False),
    "beyond the tier's maximum term": (
        {"impactAssessment": assessed(), "approvals": [entry("bob", expires="2027-07-01T00:00:00Z")]},
        False,
    ),
    "past the year 2262": (
        {"impactAssessment": assessed(), "approvals": [entry("bob", expires="2300-01-01T00:00:00Z")]},
        False,
    ),
    "listed assessment": ({"assessments": [listed("alice")], "approvals": [entry("bob")]}, True),
    "rejection, then another assessor completes": (
        {"assessments": [listed("alice", "rejected"), listed("carol")], "approvals": [entry("bob")]},
        False,
    ),
    "rejection withdrawn by its assessor": (
        {"assessments": [listed("alice", "rejected"), listed("alice")], "approvals": [entry("bob")]},
        True,
    ),
    "legacy rejection, then a listed completion": (
        {
            "impactAssessment": assessed() | {"status": "rejected"},
            "assessments": [listed("carol")],
            "approvals": [entry("bob")],
        },
        False,
    ),
    "latest entry for another tier": (
        {"assessments": [listed("alice"), listed("carol", tier="high")], "approvals": [entry("bob")]},
        False,
    ),
    "earlier assessor approves": (
        {"assessments": [listed("bob"), listed("carol")], "approvals": [entry("bob")]},
        False,
    ),
    "retired by an approver": (
        {
            "assessments": [listed("alice")],
            "approvals": [entry("bob")],
            "retirement": {"retiredBy": "bob", "retiredAt": EARLIER, "justification": "replaced"},
        },
        False,
    ),
    "assessment past the year 2262": (
        {"assessments": [listed("alice", expires="2300-01-01T00:00:00Z")], "approvals": [entry("bob")]},
        False,
    ),
}


def system(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "chat", "namespace": "ml"},
        "spec": {"purpose": "chat", "riskTier": "minimal", "images": [VLLM], "owner": OWNER},
        "status": status,
    }


def deployment() -> dict[str, Any]:
    labels = {"aigov.io/system": "chat"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "labels": labels},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "m", "image": VLLM}]}}},
    }


@pytest.fixture
async def client(opa: OpaServer) -> AsyncIterator[PolicyClient]:
    async with PolicyClient(opa.url) as policy_client:
        yield policy_client


@pytest.mark.parametrize(("status", "may_run"), CASES.values(), ids=CASES.keys())
async def test_phase_and_decision_agree(client: PolicyClient, status: dict[str, Any], may_run: bool) -> None:
    record = system(status)
    document = build(admission_request(deployment(), "ml"), record, Namespace("ml"), NOW)
    decision = await client.decide(document)
    phase = evaluate(AISystem.model_validate(record), Config(), NOW).phase
    assert decision.allowed is may_run, decision.violations
    assert (phase == Phase.APPROVED) is may_run, phase
