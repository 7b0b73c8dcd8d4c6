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
from aigov.core.digests import spec_hash
from aigov.core.lifecycle import evaluate
from aigov.core.model import AISystem, AISystemSpec, Phase
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


PINNED = "vllm/vllm-openai@sha256:" + "4c" * 32
HIGH_APPROVED = {
    "impactAssessment": assessed(),
    "approvals": [entry("bob") | {"images": [PINNED]}, entry("carol") | {"role": "risk-officer", "images": [PINNED]}],
}
CLASSIFIED = {"roles": ["deployer"], "rationale": "Annex III(4)(a): recruitment"}
HIGH = {"riskTier": "high", "images": [PINNED]}
REGISTERED = {"roles": ["provider", "deployer"], "rationale": "Annex III(4)(a)", "euDatabaseId": "EU-DB-0001"}

# Cases that change the spec: (spec fields over the minimal-tier default, status, may run).
SPEC_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], bool]] = {
    "high tier classified": (HIGH | {"classification": CLASSIFIED}, HIGH_APPROVED, True),
    "high tier unclassified": (HIGH, HIGH_APPROVED, False),
    "high tier provider unregistered": (
        HIGH | {"classification": CLASSIFIED | {"roles": ["provider"]}},
        HIGH_APPROVED,
        False,
    ),
    "high tier provider registered": (HIGH | {"classification": REGISTERED}, HIGH_APPROVED, True),
    "minimal tier unclassified": ({}, {"impactAssessment": assessed(), "approvals": [entry("bob")]}, True),
    "approved for this spec": (
        {},
        {"impactAssessment": assessed(), "approvals": [entry("bob") | {"specHash": None}]},
        True,
    ),
    "approved for an earlier spec": (
        {},
        {"impactAssessment": assessed(), "approvals": [entry("bob") | {"specHash": "ab" * 32}]},
        False,
    ),
    "high tier model without digest": (
        HIGH | {"classification": CLASSIFIED, "models": [{"name": "gbm"}]},
        HIGH_APPROVED,
        False,
    ),
    "high tier model with digest": (
        HIGH | {"classification": CLASSIFIED, "models": [{"name": "gbm", "digest": "sha256:" + "5e" * 32}]},
        HIGH_APPROVED,
        True,
    ),
}
ALL_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], bool]] = {
    name: ({}, status, may_run) for name, (status, may_run) in CASES.items()
} | SPEC_CASES


def system(status: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The AISystem; an approval's `specHash: None` stands for the hash of this very spec."""
    spec = {"purpose": "chat", "riskTier": "minimal", "images": [VLLM], "owner": OWNER} | spec
    current = spec_hash(AISystemSpec.model_validate(spec))
    approvals = [e | {"specHash": current} if e.get("specHash", "") is None else e for e in status.get("approvals", [])]
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "chat", "namespace": "ml"},
        "spec": spec,
        "status": status | ({"approvals": approvals} if approvals else {}),
    }


def deployment(image: str) -> dict[str, Any]:
    labels = {"aigov.io/system": "chat"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "labels": labels},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "m", "image": image}]}}},
    }


@pytest.fixture
async def client(opa: OpaServer) -> AsyncIterator[PolicyClient]:
    async with PolicyClient(opa.url) as policy_client:
        yield policy_client


@pytest.mark.parametrize(("spec", "status", "may_run"), ALL_CASES.values(), ids=ALL_CASES.keys())
async def test_phase_and_decision_agree(
    client: PolicyClient, spec: dict[str, Any], status: dict[str, Any], may_run: bool
) -> None:
    record = system(status, spec)
    request = admission_request(deployment(record["spec"]["images"][0]), "ml")
    document = build(request, record, Namespace("ml"), NOW)
    decision = await client.decide(document)
    phase = evaluate(AISystem.model_validate(record), Config(), NOW).phase
    assert decision.allowed is may_run, decision.violations
    assert (phase == Phase.APPROVED) is may_run, phase
