"""The generated CRD in a real kube-apiserver: samples apply, bad objects are refused, records round-trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.core.lifecycle import evaluate, status_changes
from aigov.core.model import AISystem, Phase, rfc3339
from devkit.devcluster import ControlPlane

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def crds(kube: ControlPlane) -> ControlPlane:
    """The committed CRDs, applied and established."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    kube.wait_established("aisystems.aigov.io")
    return kube


def _apply(kube: ControlPlane, namespace: str, body: dict[str, Any], check: bool = True) -> Any:
    return kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body), check=check)


def _system(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": name},
        "spec": {"purpose": "answers questions", "riskTier": "minimal", **spec},
    }


def _get(kube: ControlPlane, namespace: str, name: str) -> AISystem:
    return AISystem.model_validate_json(kube.kubectl("get", "ais", name, "-n", namespace, "-o", "json").stdout)


def _patch_status(kube: ControlPlane, namespace: str, name: str, patch: dict[str, Any], check: bool = True) -> Any:
    return kube.kubectl(
        "patch", "ais", name, "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": patch}), check=check,
    )  # fmt: skip


def test_samples_apply_and_list_with_columns(crds: ControlPlane, namespace: str) -> None:
    for sample in sorted((REPO / "samples").glob("*.yaml")):
        crds.kubectl("apply", "-n", namespace, "-f", str(sample))
    table = crds.kubectl("get", "ais", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "RISK", "PHASE", "ASSESSED", "UNTIL", "APPROVALS", "SUSPENDED", "AGE"]
    assert {line.split()[0] for line in table[1:]} == {"credit-scoring", "support-chatbot", "citizen-trust-score"}
    assert "credit-scoring" in crds.kubectl("get", "aigov", "-n", namespace, "-o", "name").stdout
    stored = _get(crds, namespace, "credit-scoring")
    assert stored.spec.monitoring is not None and stored.spec.monitoring.checks[0].for_ == "2m"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"controls": [{"id": "A.3.4", "status": "implemented"}]}, 'spec.controls[0].id: Unsupported value: "A.3.4"'),
        ({"riskTier": "extreme"}, 'spec.riskTier: Unsupported value: "extreme"'),
        ({"lifecycle": {"stage": "production"}}, "a system in production must name an owner"),
        (
            {"controls": [{"id": "A.5.2", "status": "implemented"}, {"id": "A.5.2", "status": "planned"}]},
            "spec.controls[1]: Duplicate value",
        ),
        (
            {
                "monitoring": {
                    "checks": [{"name": "psi", "query": "up", "comparator": ">", "threshold": 1, "for": "2 min"}]
                }
            },
            "spec.monitoring.checks[0].for",
        ),
    ],
    ids=["unknown-control", "unknown-tier", "production-without-owner", "duplicate-control", "bad-duration"],
)
def test_invalid_systems_are_refused_readably(
    crds: ControlPlane, namespace: str, spec: dict[str, Any], message: str
) -> None:
    result = _apply(crds, namespace, _system("bad", **spec), check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_records_round_trip_through_the_status_subresource(crds: ControlPlane, namespace: str) -> None:
    _apply(crds, namespace, _system("bot", lifecycle={"stage": "production"}, owner={"name": "team"}))
    now = datetime.now(UTC).replace(microsecond=0)
    records = {
        "impactAssessment": {
            "status": "completed", "assessor": "ann", "completedAt": rfc3339(now),
            "expiresAt": rfc3339(now + timedelta(days=180)), "sha256": "a" * 64, "residualRisk": "low",
        },
        "approvals": [{"approver": "alice", "decision": "approved", "decidedAt": rfc3339(now),
                       "expiresAt": rfc3339(now + timedelta(days=90)), "images": []}],
    }  # fmt: skip
    _patch_status(crds, namespace, "bot", records)
    system = _get(crds, namespace, "bot")
    assert system.status.impact_assessment is not None and system.status.impact_assessment.assessor == "ann"

    evaluation = evaluate(system, Config(), now)
    assert evaluation.phase == Phase.APPROVED
    _patch_status(crds, namespace, "bot", status_changes(system.status, evaluation))
    stored = _get(crds, namespace, "bot")
    assert stored.status.phase == Phase.APPROVED
    assert status_changes(stored.status, evaluate(stored, Config(), now)) == {}
    row = crds.kubectl("get", "ais", "bot", "-n", namespace, "--no-headers").stdout.split()
    assert row[1:5] == ["minimal", "Approved", rfc3339(now + timedelta(days=180)), "1"]


def test_status_rules_refuse_inconsistent_records(crds: ControlPlane, namespace: str) -> None:
    _apply(crds, namespace, _system("bot"))
    now = rfc3339(datetime.now(UTC))
    no_expiry = {"approvals": [{"approver": "alice", "decision": "approved", "decidedAt": now}]}
    result = _patch_status(crds, namespace, "bot", no_expiry, check=False)
    assert "an approval needs expiresAt later than decidedAt" in result.stderr
    backwards = {"impactAssessment": {"status": "completed", "assessor": "ann", "completedAt": now, "expiresAt": now}}
    result = _patch_status(crds, namespace, "bot", backwards, check=False)
    assert "a completed assessment needs expiresAt later than completedAt" in result.stderr


def test_status_is_not_written_through_the_main_resource(crds: ControlPlane, namespace: str) -> None:
    body = _system("bot")
    body["status"] = {"phase": "Approved"}
    _apply(crds, namespace, body)
    assert _get(crds, namespace, "bot").status.phase is None


def test_explain_teaches_the_fields(crds: ControlPlane) -> None:
    text = crds.kubectl("explain", "aisystem.spec.purpose").stdout
    assert "intended purpose" in text and "A.9.4" in text
