"""Stopping always works: scale-downs, suspends and stops of a system that must not run are admitted.

The real API server calls the live webhook (real OPA). The system has lost its
approval (revoked), been retired, or had its approval expire; every way a
person, the Deployment controller or the operator stops a workload must still
pass, while scaling up or changing the pod template stays refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from devkit.devcluster import ControlPlane
from tests.e2e.conftest import People
from tests.e2e.objects import (
    aisystem,
    append_approval,
    apply,
    approval,
    checked,
    settle,
    workload,
)
from tests.e2e.test_admission import denied, governed

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]


def revoke(kube: ControlPlane, people: People, namespace: str) -> None:
    entry = approval("bob", role="risk-officer") | {"decision": "revoked", "images": []}
    checked(append_approval(kube, namespace, "chat", entry, people.bob))


def retire(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(apply(kube, namespace, aisystem("chat", lifecycle={"stage": "retired"})))


def expire(kube: ControlPlane, people: People, namespace: str) -> None:
    checked(append_approval(kube, namespace, "chat", approval("bob", expires_days=-1), people.bob))


MUST_NOT_RUN: dict[str, Callable[[ControlPlane, People, str], None]] = {
    "revoked": revoke,
    "retired": retire,
    "expired": expire,
}


def running(kube: ControlPlane, people: People, namespace: str, *kinds: str, state: str) -> None:
    """Workloads of `kinds` (3 replicas where they scale) admitted while approved, then the system put in `state`."""
    governed(kube, people, namespace)
    for kind in kinds:
        checked(apply(kube, namespace, workload(kind, kind.lower(), system="chat", replicas=3)))
    MUST_NOT_RUN[state](kube, people, namespace)
    settle()


def get(kube: ControlPlane, namespace: str, resource: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(kube.kubectl("get", resource, "-n", namespace, "-o", "json").stdout)
    return found


def replace(kube: ControlPlane, namespace: str, obj: dict[str, Any]) -> Any:
    return kube.kubectl("replace", "-n", namespace, "-f", "-", input=json.dumps(obj), check=False)


@pytest.mark.parametrize("state", MUST_NOT_RUN)
def test_patching_replicas_to_zero_is_admitted(kube: ControlPlane, people: People, namespace: str, state: str) -> None:
    running(kube, people, namespace, "Deployment", state=state)
    patch = json.dumps({"spec": {"replicas": 0}})
    checked(kube.kubectl("patch", "deployment/deployment", "-n", namespace, "-p", patch, check=False))
    assert get(kube, namespace, "deployment/deployment")["spec"]["replicas"] == 0


@pytest.mark.parametrize("state", MUST_NOT_RUN)
def test_deployment_controller_scales_a_replica_set_down(
    kube: ControlPlane, people: People, namespace: str, state: str
) -> None:
    """The controller's full UPDATE: replicas lowered, its `deployment.kubernetes.io/*` annotations rewritten."""
    running(kube, people, namespace, "ReplicaSet", state=state)
    obj = get(kube, namespace, "replicaset/replicaset")
    obj["metadata"].setdefault("annotations", {}).update({"deployment.kubernetes.io/desired-replicas": "1"})
    obj["spec"]["replicas"] = 1
    checked(replace(kube, namespace, obj))
    obj = get(kube, namespace, "replicaset/replicaset")
    obj["spec"]["replicas"] = 2
    denied(replace(kube, namespace, obj))


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"])
def test_scale_subresource_down_is_admitted_up_is_not(
    kube: ControlPlane, people: People, namespace: str, kind: str
) -> None:
    running(kube, people, namespace, kind, state="revoked")
    target = f"{kind.lower()}/{kind.lower()}"
    checked(kube.kubectl("scale", target, "-n", namespace, "--replicas=1", check=False))
    denied(kube.kubectl("scale", target, "-n", namespace, "--replicas=2", check=False), "AIGOV_APPROVAL_MISSING")


@pytest.mark.parametrize("state", MUST_NOT_RUN)
def test_suspend_stop_and_park_are_admitted(kube: ControlPlane, people: People, namespace: str, state: str) -> None:
    running(kube, people, namespace, "Job", "CronJob", "InferenceService", "DaemonSet", state=state)
    merge = "--type=merge"
    for target, patch in (
        ("job/job", {"spec": {"suspend": True}}),
        ("cronjob/cronjob", {"spec": {"suspend": True}}),
        ("inferenceservice/inferenceservice", {"metadata": {"annotations": {"serving.kserve.io/stop": "true"}}}),
        ("daemonset/daemonset", {"spec": {"template": {"spec": {"nodeSelector": {"aigov.io/stopped": "true"}}}}}),
    ):
        checked(kube.kubectl("patch", target, "-n", namespace, merge, "-p", json.dumps(patch), check=False))
    unparked = json.dumps({"spec": {"template": {"spec": {"nodeSelector": None}}}})
    denied(kube.kubectl("patch", "daemonset/daemonset", "-n", namespace, merge, "-p", unparked, check=False))
