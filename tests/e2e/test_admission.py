"""Workloads through the real API server and the live webhook: every kind, every code, every mode."""

from __future__ import annotations

import re
import subprocess

import pytest

from devkit.devcluster import ControlPlane
from devkit.devstack import Webhook
from tests.e2e.conftest import People
from tests.e2e.objects import (
    NGINX,
    OPERATOR,
    OWNER_EMAIL,
    VLLM,
    VLLM_PINNED,
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    assessment,
    checked,
    patch_status,
    settle,
    when,
    workload,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]

KINDS = ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "InferenceService"]


def governed(
    kube: ControlPlane,
    people: People,
    namespace: str,
    *,
    name: str = "chat",
    tier: str = "minimal",
    images: tuple[str, ...] = (VLLM,),
) -> str:
    """An AISystem with a valid assessment and the approvals its tier needs."""  # fmt: skip
    checked(apply(kube, namespace, aisystem(name, tier, images)))
    checked(append_assessment(kube, namespace, name, assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, name, approval("bob", images, role="risk-officer"), people.bob))
    if tier == "high":
        checked(append_approval(kube, namespace, name, approval("carol", images), people.carol))
    settle()
    return name


def denied(result: subprocess.CompletedProcess[str], *codes: str) -> str:
    """The webhook's deny message, asserting it names every code in `codes`."""
    assert result.returncode != 0, f"expected a deny, got: {result.stdout}"
    assert 'admission webhook "workloads.aigov.io" denied the request' in result.stderr, result.stderr
    found = set(re.findall(r"AIGOV_[A-Z_]+", result.stderr))
    assert set(codes) <= found, result.stderr
    return result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_ungoverned_ai_workload_of_each_kind_is_denied(kube: ControlPlane, namespace: str, kind: str) -> None:
    message = denied(apply(kube, namespace, workload(kind, "llm")), "AIGOV_UNGOVERNED")
    assert f"- AIGOV_UNGOVERNED [ISO/IEC 42001 A.6.2.5]: {kind}" in message or "AIGOV_UNGOVERNED" in message
    assert "aigov.io/system" in message  # the fix names the label to add


@pytest.mark.parametrize("kind", KINDS)
def test_governed_workload_of_each_kind_is_admitted(
    kube: ControlPlane, people: People, namespace: str, kind: str
) -> None:
    governed(kube, people, namespace)
    checked(apply(kube, namespace, workload(kind, "llm", system="chat")))


def test_non_ai_workload_is_admitted(kube: ControlPlane, namespace: str) -> None:
    checked(apply(kube, namespace, workload("Deployment", "web", image=NGINX)))


def test_accelerator_request_makes_an_ai_workload(kube: ControlPlane, namespace: str) -> None:
    obj = workload("Deployment", "trainer", image="registry.example.com/team/train:1")
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
    denied(apply(kube, namespace, obj), "AIGOV_UNGOVERNED")


def test_unknown_system_is_denied(kube: ControlPlane, namespace: str) -> None:
    denied(apply(kube, namespace, workload("Deployment", "llm", system="nope")), "AIGOV_SYSTEM_NOT_FOUND")


def test_prohibited_system_is_denied(kube: ControlPlane, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("scoring", "prohibited")))
    denied(apply(kube, namespace, workload("Deployment", "llm", system="scoring")), "AIGOV_PROHIBITED")


def test_retired_system_is_denied(kube: ControlPlane, people: People, namespace: str) -> None:
    governed(kube, people, namespace)
    checked(apply(kube, namespace, aisystem("chat", lifecycle={"stage": "retired"})))
    settle()
    denied(apply(kube, namespace, workload("Deployment", "llm", system="chat")), "AIGOV_RETIRED")


def test_missing_records_are_all_listed(kube: ControlPlane, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat")))
    message = denied(
        apply(kube, namespace, workload("Deployment", "llm", system="chat")),
        "AIGOV_ASSESSMENT_MISSING",
        "AIGOV_APPROVAL_MISSING",
    )
    assert "kubectl aigov assess" in message
    assert "kubectl aigov approve" in message


def test_expired_assessment_is_denied(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat")))
    expired = assessment("alice", expires_days=-1, completed_days=-30)
    checked(append_assessment(kube, namespace, "chat", expired, people.alice))
    checked(append_approval(kube, namespace, "chat", approval("bob"), people.bob))
    settle()
    denied(apply(kube, namespace, workload("Deployment", "llm", system="chat")), "AIGOV_ASSESSMENT_EXPIRED")


def test_missing_approval_is_denied(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    settle()
    denied(apply(kube, namespace, workload("Deployment", "llm", system="chat")), "AIGOV_APPROVAL_MISSING")


def test_expired_approval_is_denied(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, "chat", approval("bob", expires_days=-1), people.bob))
    settle()
    denied(apply(kube, namespace, workload("Deployment", "llm", system="chat")), "AIGOV_APPROVAL_EXPIRED")


def test_unapproved_image_is_denied(kube: ControlPlane, people: People, namespace: str) -> None:
    governed(kube, people, namespace)
    obj = workload("Deployment", "llm", image="vllm/vllm-openai:v0.9.0", system="chat")
    denied(apply(kube, namespace, obj), "AIGOV_IMAGE_NOT_APPROVED")


def test_high_risk_needs_pinned_images(kube: ControlPlane, people: People, namespace: str) -> None:
    governed(kube, people, namespace, tier="high", images=(VLLM_PINNED,))
    denied(
        apply(kube, namespace, workload("Deployment", "tagged", image=VLLM, system="chat")), "AIGOV_IMAGE_NOT_PINNED"
    )
    checked(apply(kube, namespace, workload("Deployment", "pinned", image=VLLM_PINNED, system="chat")))


def test_system_created_a_moment_ago_is_found(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("fresh")))
    denied(apply(kube, namespace, workload("Deployment", "llm", system="fresh")), "AIGOV_ASSESSMENT_MISSING")


def suspend(kube: ControlPlane, people: People, namespace: str, name: str) -> None:
    """Record a suspension as the operator would."""
    record = {"active": True, "since": when(0), "reason": "CheckBreached", "suspendedBy": OPERATOR}
    checked(patch_status(kube, namespace, name, {"suspension": record}, people.operator))
    settle()


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
def test_suspended_system_scales_to_zero_but_not_up(
    kube: ControlPlane, people: People, namespace: str, kind: str
) -> None:
    governed(kube, people, namespace)
    checked(apply(kube, namespace, workload(kind, "llm", system="chat", replicas=2)))
    suspend(kube, people, namespace, "chat")
    target = f"{kind.lower()}/llm"
    checked(kube.kubectl("scale", target, "-n", namespace, "--replicas=0", check=False))
    result = kube.kubectl("scale", target, "-n", namespace, "--replicas=3", check=False)
    denied(result, "AIGOV_SUSPENDED")
    assert "scale" in result.stderr
    denied(apply(kube, namespace, workload("Deployment", "another", system="chat")), "AIGOV_SUSPENDED")


def test_a_workload_cannot_leave_a_suspended_system(kube: ControlPlane, people: People, namespace: str) -> None:
    """Relabelling to another approved system with the same image, then scaling up, would escape the suspension."""
    governed(kube, people, namespace)
    governed(kube, people, namespace, name="other")
    checked(apply(kube, namespace, workload("Deployment", "llm", system="chat", replicas=2)))
    suspend(kube, people, namespace, "chat")
    checked(kube.kubectl("scale", "deployment/llm", "-n", namespace, "--replicas=0", check=False))
    message = denied(
        apply(kube, namespace, workload("Deployment", "llm", system="other", replicas=0)), "AIGOV_SUSPENDED"
    )
    assert 'AISystem "chat", which is suspended' in message
    checked(apply(kube, namespace, workload("Deployment", "fresh", system="other")))


def test_warn_namespace_admits_with_warnings(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("label", "namespace", namespace, "aigov.io/enforcement=warn")
    result = checked(apply(kube, namespace, workload("Deployment", "llm")))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert any("AIGOV_UNGOVERNED" in line for line in warnings), result.stderr
    assert all(len(line.removeprefix("Warning: ")) <= 120 for line in warnings)


def test_audit_namespace_admits_silently_and_counts(kube: ControlPlane, namespace: str, aigov_cluster: Webhook) -> None:
    kube.kubectl("label", "namespace", namespace, "aigov.io/enforcement=audit")
    result = checked(apply(kube, namespace, workload("Deployment", "llm")))
    assert "AIGOV_" not in result.stderr
    sample = (
        f'aigov_admission_requests_total{{code="AIGOV_UNGOVERNED",decision="allowed",kind="Deployment",'
        f'mode="audit",namespace="{namespace}"}} 1.0'
    )
    assert sample in aigov_cluster.metrics()


def test_enforcement_off_namespace_is_not_reviewed(kube: ControlPlane, namespace: str, aigov_cluster: Webhook) -> None:
    kube.kubectl("label", "namespace", namespace, "aigov.io/enforcement=off")
    checked(apply(kube, namespace, workload("Deployment", "llm")))
    assert f'namespace="{namespace}"' not in aigov_cluster.metrics()


@pytest.mark.parametrize("excluded", ["kube-system", "aigov-system"])
def test_excluded_namespaces_are_untouched(kube: ControlPlane, excluded: str) -> None:
    kube.kubectl("create", "namespace", excluded, check=False)
    checked(apply(kube, excluded, workload("Pod", f"llm-{excluded}")))


def test_metrics_count_denials_and_latency(kube: ControlPlane, namespace: str, aigov_cluster: Webhook) -> None:
    denied(apply(kube, namespace, workload("Pod", "llm")), "AIGOV_UNGOVERNED")
    text = aigov_cluster.metrics()
    assert (
        f'aigov_admission_requests_total{{code="AIGOV_UNGOVERNED",decision="denied",kind="Pod",'
        f'mode="enforce",namespace="{namespace}"}} 1.0'
    ) in text
    assert 'aigov_admission_duration_seconds_bucket{le="3.0"}' in text
    assert "aigov_policy_evaluation_duration_seconds_count" in text
    cache_size = re.search(r"^aigov_aisystem_cache_size (\S+)$", text, re.MULTILINE)
    assert cache_size is not None


def test_an_approver_who_assesses_afterwards_does_not_count(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_approval(kube, namespace, "chat", approval("dora"), people.dora))
    checked(append_assessment(kube, namespace, "chat", assessment("dora"), people.dora))
    settle()
    denied(apply(kube, namespace, workload("Deployment", "llm", system="chat")), "AIGOV_APPROVAL_MISSING")


def test_an_owner_who_steps_aside_to_approve_does_not_count(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    stand_in = {"name": "Someone Else", "email": "else@example.com"}
    checked(apply(kube, namespace, aisystem("chat", owner=stand_in)))
    checked(append_approval(kube, namespace, "chat", approval(OWNER_EMAIL), people.owner))
    checked(apply(kube, namespace, aisystem("chat")))
    settle()
    denied(apply(kube, namespace, workload("Deployment", "llm", system="chat")), "AIGOV_APPROVAL_MISSING")


def test_an_approved_image_outside_spec_images_is_denied(kube: ControlPlane, people: People, namespace: str) -> None:
    other = "vllm/vllm-openai:v0.9.0"
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, "chat", approval("bob", (VLLM, other)), people.bob))
    settle()
    message = denied(apply(kube, namespace, workload("Deployment", "llm", image=other, system="chat")))
    assert "AIGOV_IMAGE_NOT_APPROVED" in message and "not in the system's spec.images" in message
