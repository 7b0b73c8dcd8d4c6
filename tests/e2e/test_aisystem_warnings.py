"""AISystems through the live webhook: `kubectl apply` warns about what their workloads will meet, and succeeds."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from devkit.devcluster import ControlPlane
from tests.e2e.conftest import People
from tests.e2e.objects import (
    VLLM,
    VLLM_PINNED,
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    assessment,
    checked,
    settle,
    workload,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]

REPINNED = "vllm/vllm-openai@sha256:" + "5d" * 32


def warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The admission warnings kubectl printed, asserting the apply succeeded."""
    checked(result)
    return [line.removeprefix("Warning: ") for line in result.stderr.splitlines() if line.startswith("Warning: ")]


def test_unpinned_image_of_a_high_risk_system_warns(kube: ControlPlane, namespace: str) -> None:
    result = apply(kube, namespace, aisystem("chat", "high", images=(VLLM, VLLM_PINNED)))
    assert warnings(result) == [
        f"{VLLM} is not pinned by digest: workloads using it will be denied (AIGOV_IMAGE_NOT_PINNED)"
    ]
    assert "aisystem.aigov.io/chat created" in result.stdout
    denied = apply(kube, namespace, workload("Deployment", "llm", image=VLLM, system="chat"))
    assert denied.returncode != 0
    assert "AIGOV_IMAGE_NOT_PINNED" in denied.stderr


def test_prohibited_system_warns(kube: ControlPlane, namespace: str) -> None:
    assert warnings(apply(kube, namespace, aisystem("scoring", "prohibited"))) == [
        'riskTier "prohibited" may never run: workloads referencing this AISystem will be denied (AIGOV_PROHIBITED)'
    ]


def test_image_change_warns_until_re_approved(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat", "high", images=(VLLM_PINNED,))))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, "chat", approval("bob", (VLLM_PINNED,), "risk-officer"), people.bob))
    checked(append_approval(kube, namespace, "chat", approval("carol", (VLLM_PINNED,)), people.carol))
    settle()
    assert warnings(apply(kube, namespace, aisystem("chat", "high", images=(VLLM_PINNED,), purpose="chat"))) == []

    (warning,) = warnings(apply(kube, namespace, aisystem("chat", "high", images=(REPINNED,))))
    # Cut at 120 characters when the namespace is long, as the test namespaces are.
    expected = (
        f"workloads with vllm/vllm-openai@sha256:{'5d' * 6} will be denied until re-approved: "
        f"kubectl aigov approve chat -n {namespace}"
    )
    assert warning == (expected if len(expected) <= 120 else expected[:117] + "...")
    settle()
    denied = apply(kube, namespace, workload("Deployment", "llm", image=REPINNED, system="chat"))
    assert denied.returncode != 0
    assert "AIGOV_IMAGE_NOT_APPROVED" in denied.stderr


def test_a_placeholder_assessment_digest_warns(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat", "minimal")))
    typed = assessment("alice") | {"sha256": "0" * 64}
    assert warnings(append_assessment(kube, namespace, "chat", typed, people.alice)) == [
        "assessment sha256 looks typed (one character repeated): compute it with kubectl aigov assess --file <doc>"
    ]
    computed = assessment("alice") | {"sha256": hashlib.sha256(b"assessment").hexdigest()}
    assert warnings(append_assessment(kube, namespace, "chat", computed, people.alice)) == []
