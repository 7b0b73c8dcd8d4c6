"""An approval approves one spec, through the live webhook: a change of purpose, models or drift checks
(not only images) needs re-approval; approvals recorded without a spec hash keep covering images as before."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from aigov.cli.app import app
from aigov.core.digests import spec_hash
from aigov.core.model import AISystemSpec
from devkit.devcluster import ControlPlane, User
from tests.e2e.conftest import People
from tests.e2e.objects import VLLM, aisystem, append_approval, apply, approval, checked, settle, workload
from tests.e2e.test_tier_change import assess

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]


def approve(user: User, namespace: str, name: str) -> None:
    """`aigov approve` as `user`."""
    result = CliRunner().invoke(
        app,
        [
            "approve", name, "--role", "ml-lead", "--expires", "90d", "--justification", "reviewed",
            "--kubeconfig", str(user.kubeconfig), "-n", namespace,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def stored(kube: ControlPlane, namespace: str, name: str) -> dict[str, object]:
    got: dict[str, object] = json.loads(kube.kubectl("get", "aisystem", name, "-n", namespace, "-o", "json").stdout)
    return got


def denied(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_a_purpose_change_needs_re_approval(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat", "limited", images=(VLLM,))))
    assess(people.alice, namespace, "chat")
    approve(people.bob, namespace, "chat")
    record = stored(kube, namespace, "chat")
    (entry,) = record["status"]["approvals"]  # type: ignore[index]
    assert entry["specHash"] == spec_hash(AISystemSpec.model_validate(record["spec"]))
    assert entry["assessmentSha256"] == record["status"]["assessments"][-1]["sha256"]  # type: ignore[index]
    settle()
    checked(apply(kube, namespace, workload("Deployment", "llm", image=VLLM, system="chat")))

    changed = checked(
        apply(kube, namespace, aisystem("chat", "limited", images=(VLLM,), purpose="scores job applicants"))
    )
    assert (
        "Warning: spec change voids the approvals by bob: workloads will be denied until re-approved" in changed.stderr
    )
    settle()
    message = denied(apply(kube, namespace, workload("Deployment", "llm2", image=VLLM, system="chat")))
    assert "AIGOV_APPROVAL_MISSING" in message
    assert "the approvals by bob were for an earlier spec" in message

    approve(people.bob, namespace, "chat")
    settle()
    checked(apply(kube, namespace, workload("Deployment", "llm2", image=VLLM, system="chat")))


def test_an_approval_without_a_spec_hash_covers_its_images(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat", "limited", images=(VLLM,))))
    assess(people.alice, namespace, "chat")
    checked(append_approval(kube, namespace, "chat", approval("bob", (VLLM,)), people.bob))
    checked(apply(kube, namespace, aisystem("chat", "limited", images=(VLLM,), purpose="scores job applicants")))
    settle()
    checked(apply(kube, namespace, workload("Deployment", "llm", image=VLLM, system="chat")))
