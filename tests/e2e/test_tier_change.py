"""Lowering `spec.riskTier` after approval sends the system back to assessment, through the live webhook.

The assessment names the tier it was made for (`aigov assess` records `spec.riskTier`); whoever may edit
the spec can change the tier, but workloads are then denied with AIGOV_ASSESSMENT_STALE until an assessor
re-assesses the system for its new tier.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from typer.testing import CliRunner

from aigov.cli.app import app
from devkit.devcluster import ControlPlane, User
from tests.e2e.conftest import People
from tests.e2e.objects import VLLM, aisystem, append_approval, apply, approval, checked, settle, workload

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]

STALE_WARNING = (
    'riskTier changed from "limited" to "minimal": workloads will be denied until re-assessed (AIGOV_ASSESSMENT_STALE)'
)


def assess(user: User, namespace: str, name: str) -> None:
    """`aigov assess` as `user`, as an assessor runs it."""
    result = CliRunner().invoke(
        app,
        [
            "assess", name, "--reference", "https://docs.example.com/fria.pdf", "--sha256", "9f" * 32,
            "--expires", "365d", "--residual-risk", "low", "--kubeconfig", str(user.kubeconfig), "-n", namespace,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def assessment_on_record(kube: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    got = json.loads(kube.kubectl("get", "aisystem", name, "-n", namespace, "-o", "json").stdout)
    record: dict[str, Any] = got["status"]["assessments"][-1]
    return record


def warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The admission warnings kubectl printed, asserting the apply succeeded."""
    checked(result)
    return [line.removeprefix("Warning: ") for line in result.stderr.splitlines() if line.startswith("Warning: ")]


def test_lowered_tier_is_denied_until_re_assessed(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat", "limited", images=(VLLM,))))
    assess(people.alice, namespace, "chat")
    assert assessment_on_record(kube, namespace, "chat")["riskTier"] == "limited"
    checked(append_approval(kube, namespace, "chat", approval("bob", (VLLM,)), people.bob))
    settle()
    checked(apply(kube, namespace, workload("Deployment", "llm", image=VLLM, system="chat")))

    # The system team (or GitOps) lowers the tier: the apply succeeds, with a warning.
    assert warnings(apply(kube, namespace, aisystem("chat", "minimal", images=(VLLM,)))) == [STALE_WARNING]
    settle()
    denied = apply(kube, namespace, workload("Deployment", "llm-2", image=VLLM, system="chat"))
    assert denied.returncode != 0
    assert "AIGOV_ASSESSMENT_STALE" in denied.stderr
    assert 'made for risk tier "limited"; the system is now risk tier "minimal"' in denied.stderr
    assert f"kubectl aigov assess chat -n {namespace}" in denied.stderr
    for code in ("AIGOV_ASSESSMENT_MISSING", "AIGOV_ASSESSMENT_EXPIRED", "AIGOV_APPROVAL_MISSING"):
        assert code not in denied.stderr

    # The assessor re-assesses the system for its new tier: the same workload is admitted.
    assess(people.alice, namespace, "chat")
    assert assessment_on_record(kube, namespace, "chat")["riskTier"] == "minimal"
    settle()
    checked(apply(kube, namespace, workload("Deployment", "llm-2", image=VLLM, system="chat")))
