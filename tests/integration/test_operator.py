"""`aigov operator` against a real kube-apiserver: phases, expiry by time, Events, bound workloads, no finalizer."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.core.model import rfc3339
from aigov.operator.run import FINALIZER, REPORTING_COMPONENT
from devkit.devcluster import ControlPlane, Server
from tests.integration.conftest import REPO, StartOperator
from tests.polling import eventually

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module", autouse=True)
def operator(start_operator: StartOperator, peering_name: str) -> Server:
    """One operator, cluster-wide, for the whole module."""
    return start_operator(f"--peering={peering_name}", "--resync=30")


def apply(kube: ControlPlane, namespace: str, body: dict[str, Any]) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))


CLASSIFIED = {"roles": ["deployer"], "rationale": "Annex III(4)(a)"}
"""The EU AI Act classification record (the high tier requires it)."""


def system(name: str, tier: str = "minimal") -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": name},
        "spec": {"purpose": "answers questions", "riskTier": tier, "classification": CLASSIFIED},
    }


def get(kube: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(kube.kubectl("get", "ais", name, "-n", namespace, "-o", "json").stdout)
    return found


def status(kube: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = get(kube, namespace, name).get("status") or {}
    return found


def wait_phase(kube: ControlPlane, namespace: str, name: str, phase: str) -> dict[str, Any]:
    """The status once the operator has set `phase`."""
    found: dict[str, Any] = eventually(
        lambda: (s := status(kube, namespace, name)).get("phase") == phase and s,
        what=f"{name} in phase {phase} (now {status(kube, namespace, name).get('phase')})",
    )
    return found


def record(kube: ControlPlane, namespace: str, name: str, records: dict[str, Any]) -> None:
    """Write governance records through the status subresource, as `kubectl aigov` does."""
    patch = json.dumps({"status": records})
    kube.kubectl("patch", "ais", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", patch)


def assessment(valid: timedelta = timedelta(days=180)) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "status": "completed",
        "assessor": "ann",
        "completedAt": rfc3339(now),
        "expiresAt": rfc3339(now + valid),
        "reference": "https://docs.example.com/fria.pdf",
        "sha256": "a" * 64,
        "residualRisk": "low",
    }


def approval(who: str, role: str | None = None, valid: timedelta = timedelta(days=90)) -> dict[str, Any]:
    now = datetime.now(UTC)
    entry = {"approver": who, "decision": "approved", "decidedAt": rfc3339(now), "expiresAt": rfc3339(now + valid)}
    return entry | ({"role": role} if role else {})


def events(kube: ControlPlane, namespace: str, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the AISystem's Events from the operator, oldest first."""
    listed = json.loads(
        kube.kubectl(
            "get", "events", "-n", namespace, "-o", "json",
            f"--field-selector=involvedObject.kind=AISystem,involvedObject.name={name}",
        ).stdout
    )  # fmt: skip
    ours = [e for e in listed["items"] if e.get("reportingComponent") == REPORTING_COMPONENT]
    ours.sort(key=lambda e: e.get("eventTime") or e.get("firstTimestamp") or "")
    return [(e["type"], e["reason"], e["message"]) for e in ours]


def reasons(kube: ControlPlane, namespace: str, name: str) -> list[tuple[str, str]]:
    return [(kind, reason) for kind, reason, _ in events(kube, namespace, name)]


def test_samples_get_their_phases_conditions_and_columns(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", str(REPO / "samples"))
    wait_phase(kube, namespace, "support-chatbot", "AwaitingAssessment")
    wait_phase(kube, namespace, "citizen-trust-score", "Prohibited")
    credit = wait_phase(kube, namespace, "credit-scoring", "AwaitingAssessment")

    conditions = {c["type"]: c for c in credit["conditions"]}
    assert [conditions[t]["status"] for t in ("ImpactAssessed", "Approved", "Suspended", "Ready")] == [
        "False", "False", "False", "False",
    ]  # fmt: skip
    generation = get(kube, namespace, "credit-scoring")["metadata"]["generation"]
    assert credit["observedGeneration"] == generation
    assert {c["observedGeneration"] for c in credit["conditions"]} == {generation}
    assert credit["approvedCount"] == 0

    rows = {
        r.split()[0]: r.split() for r in kube.kubectl("get", "ais", "-n", namespace, "--no-headers").stdout.splitlines()
    }
    assert rows["credit-scoring"][1:3] == ["high", "AwaitingAssessment"]
    assert rows["citizen-trust-score"][1:3] == ["prohibited", "Prohibited"]


def test_records_take_a_system_to_approved_with_an_event_per_transition(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", str(REPO / "samples" / "minimal-chatbot.yaml"))
    wait_phase(kube, namespace, "support-chatbot", "AwaitingAssessment")
    record(kube, namespace, "support-chatbot", {"impactAssessment": assessment()})
    wait_phase(kube, namespace, "support-chatbot", "AwaitingApproval")
    entry = approval("alice")
    record(kube, namespace, "support-chatbot", {"approvals": [entry]})
    approved = wait_phase(kube, namespace, "support-chatbot", "Approved")

    assert approved["approvedCount"] == 1
    assert approved["nextExpiry"] == entry["expiresAt"]
    assert {c["type"]: c["status"] for c in approved["conditions"]}["Ready"] == "True"
    expected = [("Normal", "AwaitingAssessment"), ("Normal", "AwaitingApproval"), ("Normal", "Approved")]
    eventually(lambda: reasons(kube, namespace, "support-chatbot") == expected, what=f"events {expected}")
    row = kube.kubectl("get", "ais", "support-chatbot", "-n", namespace, "--no-headers").stdout.split()
    assert row[1:3] == ["limited", "Approved"] and row[4] == "1"


def test_high_risk_needs_two_approvers_one_a_risk_officer(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", str(REPO / "samples" / "credit-scoring.yaml"))
    record(kube, namespace, "credit-scoring", {"impactAssessment": assessment(), "approvals": [approval("alice")]})
    wait_phase(kube, namespace, "credit-scoring", "AwaitingApproval")
    entries = [approval("alice"), approval("bob", role="risk-officer")]
    record(kube, namespace, "credit-scoring", {"approvals": entries})
    assert wait_phase(kube, namespace, "credit-scoring", "Approved")["approvedCount"] == 2


def test_an_approval_expires_by_itself_with_warnings(kube: ControlPlane, namespace: str) -> None:
    apply(kube, namespace, system("short-lived"))
    record(
        kube, namespace, "short-lived",
        {"impactAssessment": assessment(), "approvals": [approval("alice", valid=timedelta(seconds=5))]},
    )  # fmt: skip
    approved = wait_phase(kube, namespace, "short-lived", "Approved")
    assert [w["reason"] for w in approved["expiryWarnings"]] == ["ApprovalExpiring"]

    expired = wait_phase(kube, namespace, "short-lived", "Expired")
    assert expired["approvedCount"] == 0 and "expiryWarnings" not in expired
    ready = {c["type"]: c for c in expired["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "Expired")

    def announced() -> list[tuple[str, str, str]]:
        return [e for e in events(kube, namespace, "short-lived") if e[0] == "Warning"]

    warnings = eventually(lambda: len(found := announced()) >= 2 and found, what="two Warning events")
    assert [(kind, reason) for kind, reason, _ in warnings] == [("Warning", "ApprovalExpiring"), ("Warning", "Expired")]
    assert "the approval by alice expires at" in warnings[0][2]
    assert warnings[1][2].startswith("phase Approved -> Expired: approvals by alice expired")


def test_a_prohibited_system_stays_prohibited_whatever_the_records(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", str(REPO / "samples" / "prohibited-social-scoring.yaml"))
    wait_phase(kube, namespace, "citizen-trust-score", "Prohibited")
    eventually(lambda: reasons(kube, namespace, "citizen-trust-score") == [("Warning", "Prohibited")], what="event")
    record(
        kube, namespace, "citizen-trust-score",
        {"impactAssessment": assessment(), "approvals": [approval("alice"), approval("bob", "risk-officer")]},
    )  # fmt: skip
    assert eventually(lambda: status(kube, namespace, "citizen-trust-score").get("approvedCount") == 2)
    assert status(kube, namespace, "citizen-trust-score")["phase"] == "Prohibited"
    assert reasons(kube, namespace, "citizen-trust-score") == [("Warning", "Prohibited")]


def workload(kind: str, name: str, image: str, system_name: str | None) -> dict[str, Any]:
    labels = {"aigov.io/system": system_name} if system_name else {}
    pod_spec: dict[str, Any] = {"containers": [{"name": "main", "image": image}]}
    pod = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
    if kind == "Deployment":
        api, spec = "apps/v1", {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": pod}
    else:
        pod_spec["restartPolicy"] = "Never"
        api, spec = "batch/v1", {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": pod}}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "labels": labels}, "spec": spec}


def bound(kube: ControlPlane, namespace: str, name: str) -> list[tuple[str, str, tuple[str, ...]]]:
    entries = status(kube, namespace, name).get("boundWorkloads") or []
    return [(w["kind"], w["name"], tuple(w.get("images") or ())) for w in entries]


def test_bound_workloads_follow_labelled_workloads(kube: ControlPlane, namespace: str) -> None:
    apply(kube, namespace, system("bot"))
    wait_phase(kube, namespace, "bot", "AwaitingAssessment")
    apply(kube, namespace, workload("Deployment", "web", "ollama/ollama:0.6.8", "bot"))
    apply(kube, namespace, workload("Deployment", "unrelated", "nginx:1.27", None))
    apply(kube, namespace, workload("Deployment", "elsewhere", "nginx:1.27", "other-system"))

    def becomes(expected: list[tuple[str, str, tuple[str, ...]]]) -> None:
        eventually(lambda: bound(kube, namespace, "bot") == expected, what=f"boundWorkloads {expected}")

    becomes([("Deployment", "web", ("ollama/ollama:0.6.8",))])
    apply(kube, namespace, workload("CronJob", "nightly", "vllm/vllm-openai:v0.9.0", "bot"))
    becomes([("Deployment", "web", ("ollama/ollama:0.6.8",)), ("CronJob", "nightly", ("vllm/vllm-openai:v0.9.0",))])
    kube.kubectl("set", "image", "-n", namespace, "deployment/web", "main=ollama/ollama:0.7.0")
    becomes([("Deployment", "web", ("ollama/ollama:0.7.0",)), ("CronJob", "nightly", ("vllm/vllm-openai:v0.9.0",))])
    kube.kubectl("label", "-n", namespace, "deployment/web", "aigov.io/system-")
    becomes([("CronJob", "nightly", ("vllm/vllm-openai:v0.9.0",))])
    kube.kubectl("delete", "-n", namespace, "cronjob/nightly")
    becomes([])
    assert "boundWorkloads" not in status(kube, namespace, "bot")


def test_inference_services_bind_once_their_crd_is_installed(kube: ControlPlane, namespace: str) -> None:
    apply(kube, namespace, system("served"))
    wait_phase(kube, namespace, "served", "AwaitingAssessment")
    kube.kubectl("apply", "--server-side", "-f", str(REPO / "tests" / "e2e" / "testdata" / "kserve-crd.yaml"))
    kube.wait_established("inferenceservices.serving.kserve.io")
    image = "kserve/huggingfaceserver:v0.14.0"
    predictor = {
        "model": {"modelFormat": {"name": "huggingface"}, "storageUri": "hf://org/model"},
        "containers": [{"name": "kserve-container", "image": image}],
    }
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llm", "labels": {"aigov.io/system": "served"}},
        "spec": {"predictor": predictor},
    }
    apply(kube, namespace, isvc)
    expected = [("InferenceService", "llm", (image,))]
    eventually(lambda: bound(kube, namespace, "served") == expected, what=f"boundWorkloads {expected}")


def test_a_settled_system_is_not_rewritten(kube: ControlPlane, namespace: str) -> None:
    apply(kube, namespace, system("quiet"))
    wait_phase(kube, namespace, "quiet", "AwaitingAssessment")
    touched = kube.kubectl(
        "annotate",
        "ais",
        "quiet",
        "-n",
        namespace,
        "example.com/touched=yes",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ).stdout
    deadline = time.monotonic() + 3  # an absence: watch for 3 s that nobody writes after the annotation
    while time.monotonic() < deadline:
        assert get(kube, namespace, "quiet")["metadata"]["resourceVersion"] == touched
        time.sleep(0.2)
    assert reasons(kube, namespace, "quiet") == [("Normal", "AwaitingAssessment")]


def test_deleting_a_system_is_not_blocked_by_the_finalizer(kube: ControlPlane, namespace: str) -> None:
    watched = system("gone")
    check = {"name": "psi", "query": "vector(0)", "comparator": ">", "threshold": 0.25, "action": "alert"}
    watched["spec"]["monitoring"] = {"intervalSeconds": 60, "checks": [check]}
    watched["metadata"]["finalizers"] = [FINALIZER]  # as an operator that ran drift checks as kopf daemons left it
    apply(kube, namespace, watched)
    apply(kube, namespace, system("plain"))
    # no daemons or timers on AISystems (drift rounds come from a queue): kopf removes its old finalizer, adds none
    eventually(lambda: FINALIZER not in get(kube, namespace, "gone")["metadata"].get("finalizers", []))
    wait_phase(kube, namespace, "plain", "AwaitingAssessment")
    assert FINALIZER not in get(kube, namespace, "plain")["metadata"].get("finalizers", [])
    kube.kubectl("delete", "ais", "gone", "-n", namespace, "--wait=false")
    eventually(
        lambda: kube.kubectl("get", "ais", "gone", "-n", namespace, check=False).returncode != 0,
        what="the AISystem to be gone",
    )


def test_the_operator_needed_no_permission_it_lacks(operator: Server) -> None:
    log = operator.log_tail(100_000)
    assert "Forbidden" not in log and "Not enough permissions" not in log
    operator.check_alive()
