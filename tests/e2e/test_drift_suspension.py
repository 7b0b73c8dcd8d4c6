"""Drift suspension with everything running: Prometheus, the operator, the webhook and the record policy.

A sustained breach suspends an approved system; the API server then refuses
to scale it up; a resume by someone outside the approver groups is refused, a
resume by an approver (`aigov resume`) is accepted and the operator restores
the replicas. Both /metrics outputs pass `promtool check metrics`. The operator
serves only this module's namespace, so the other end-to-end tests never see it.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from aigov.install.rbac import cluster_role, cluster_role_binding
from devkit import binaries, devstack
from devkit.devcluster import (
    LOOPBACK,
    ControlPlane,
    GaugeExporter,
    PrometheusServer,
    Server,
    User,
    free_port,
)
from tests.e2e.conftest import People
from tests.e2e.objects import (
    OPERATOR,
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
from tests.polling import eventually

pytestmark = pytest.mark.cluster

INTERVAL = 10
NAME = "chat"


@dataclass
class Setup:
    """The module's namespace, drift series, operator and clients."""

    kube: ControlPlane
    namespace: str
    case: str
    exporter: GaugeExporter
    prometheus: PrometheusServer
    operator: Server
    metrics_port: int

    def drift(self, value: float) -> None:
        self.exporter.set(self.case, value, self.prometheus.url)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            self.kube.kubectl("get", kind, name, "-n", self.namespace, "-o", "json").stdout
        )
        return found

    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = self.get("aisystem", NAME).get("status") or {}
        return found

    def replicas(self) -> int | None:
        found: int | None = self.get("deployment", "api")["spec"].get("replicas")
        return found

    def aigov(self, user: User, *args: str, system: str = NAME) -> subprocess.CompletedProcess[str]:
        """Run the `aigov` CLI as `user` on `system`."""
        argv = [str(devstack.AIGOV), *args, system, "-n", self.namespace, f"--kubeconfig={user.kubeconfig}"]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def start_operator(
    kube: ControlPlane, namespace: str, prometheus: PrometheusServer, workdir: Any
) -> tuple[Server, int]:
    """`aigov operator` for `namespace` only, as the operator's identity with its namespaced role."""
    subject = {"kind": "User", "name": OPERATOR, "apiGroup": "rbac.authorization.k8s.io"}
    name = "aigov-operator-e2e"
    devstack.apply(kube, cluster_role(name, clusterwide=False), cluster_role_binding(subject, name))
    identity = kube.user(OPERATOR, kubeconfig=workdir / "kubeconfig-operator")
    metrics_port = free_port()
    server = devstack.start_operator(
        identity.kubeconfig, workdir, f"--namespace={namespace}", "--standalone",
        f"--prometheus-url={prometheus.url}", f"--metrics-port={metrics_port}", f"--metrics-host={LOOPBACK}",
    )  # fmt: skip
    return server, metrics_port


@pytest.fixture(scope="module")
def setup(
    kube: ControlPlane,
    people: People,
    prometheus: PrometheusServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Setup]:
    """An approved, monitored system with a Deployment of 2 replicas, and the operator watching it."""
    namespace = f"drift-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", namespace)
    exporter = GaugeExporter()
    prometheus.set_targets([exporter.address])
    case = uuid.uuid4().hex[:10]
    check = {"name": "psi", "query": exporter.query(case), "comparator": ">", "threshold": 0.25, "for": "5s"}
    monitoring = {"intervalSeconds": INTERVAL, "checks": [check | {"action": "suspend"}]}
    checked(apply(kube, namespace, aisystem(NAME, monitoring=monitoring)))
    checked(append_assessment(kube, namespace, NAME, assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, NAME, approval("bob"), people.bob))
    settle()
    checked(apply(kube, namespace, workload("Deployment", "api", system=NAME, replicas=2)))
    operator, metrics_port = start_operator(kube, namespace, prometheus, tmp_path_factory.mktemp("operator"))
    try:
        yield Setup(kube, namespace, case, exporter, prometheus, operator, metrics_port)
    finally:
        operator.stop(timeout=20)
        prometheus.set_targets([])
        exporter.close()


def promtool_check(text: str) -> None:
    checked_metrics = subprocess.run(
        [str(binaries.find("promtool")), "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked_metrics.returncode == 0, checked_metrics.stdout + checked_metrics.stderr


def test_breach_suspends_scale_up_is_refused_and_only_an_approver_resumes(setup: Setup, people: People) -> None:
    setup.drift(0.1)
    eventually(lambda: setup.status().get("phase") == "Approved", what="phase Approved")
    setup.drift(0.9)
    eventually(lambda: (setup.status().get("suspension") or {}).get("active"), 2 * INTERVAL + 3, what="suspended")
    eventually(lambda: setup.replicas() == 0, what="scaled to zero")
    eventually(lambda: setup.status()["suspension"].get("previousReplicas"), what="replicas recorded")

    refused = setup.kube.kubectl("scale", "deployment", "api", "--replicas=2", "-n", setup.namespace, check=False)
    assert refused.returncode != 0 and "AIGOV_SUSPENDED" in refused.stderr

    denied = setup.aigov(people.eve, "resume", "--justification=looks fine to me")
    assert denied.returncode != 0 and "AIGOV_NOT_APPROVER" in denied.stdout + denied.stderr
    assert setup.status()["suspension"]["active"] is True

    resumed = setup.aigov(people.carol, "resume", "--justification=retrained on fresh data")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    eventually(lambda: setup.replicas() == 2, what="replicas restored")
    eventually(lambda: "suspension" not in setup.status(), what="suspension archived")
    (archived,) = setup.status()["suspensionHistory"]
    assert archived["resumedBy"] == "carol" and archived["justification"] == "retrained on fresh data"


def test_a_manual_suspension_by_an_approver_stops_the_workloads(setup: Setup, people: People) -> None:
    assert "suspension" not in setup.status()
    suspended = setup.aigov(people.bob, "suspend", "--reason=complaints about answers")
    assert suspended.returncode == 0, suspended.stdout + suspended.stderr
    eventually(lambda: setup.replicas() == 0, what="scaled to zero")
    record = setup.status()["suspension"]
    assert record["suspendedBy"] == "bob" and record["previousReplicas"][0]["replicas"] == 2
    resumed = setup.aigov(people.bob, "resume", "--justification=answers checked")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    eventually(lambda: setup.replicas() == 2, what="replicas restored")


def test_both_metrics_endpoints_pass_promtool(setup: Setup, aigov_cluster: devstack.Webhook) -> None:
    operator_metrics = httpx.get(f"http://{LOOPBACK}:{setup.metrics_port}/metrics").text
    assert "aigov_drift_check_state" in operator_metrics and "aigov_suspensions_total" in operator_metrics
    promtool_check(operator_metrics)
    webhook_metrics = aigov_cluster.metrics()
    assert "aigov_admission_requests_total" in webhook_metrics
    promtool_check(webhook_metrics)


FLEET = "fleet"
EVERY_KIND = (
    "Deployment", "StatefulSet", "ReplicaSet", "ReplicationController",
    "DaemonSet", "Job", "CronJob", "InferenceService", "Pod",
)  # fmt: skip


def stop_state(setup: Setup, kind: str) -> object:
    """What says whether a workload of `kind` named `w-<kind>` runs: replicas, suspend, annotation, node selector."""
    name = f"w-{kind.lower()}"
    found = setup.kube.kubectl("get", kind.lower(), name, "-n", setup.namespace, "-o", "json", check=False)
    if found.returncode != 0:
        return "absent"
    obj = json.loads(found.stdout)
    spec, annotations = obj["spec"], obj["metadata"].get("annotations") or {}
    if kind in ("Job", "CronJob"):
        return spec.get("suspend")
    if kind == "InferenceService":
        return annotations.get("serving.kserve.io/stop")
    if kind == "DaemonSet":
        return (spec["template"]["spec"].get("nodeSelector") or {}).get("aigov.io/stopped")
    return "present" if kind == "Pod" else spec.get("replicas")


STOPPED = {"Job": True, "CronJob": True, "InferenceService": "true", "DaemonSet": "true", "Pod": "absent"}
RUNNING = {"Job": False, "CronJob": False, "InferenceService": None, "DaemonSet": None, "Pod": "present"}


def test_a_suspension_stops_every_kind_and_a_resume_restores_it(setup: Setup, people: People) -> None:
    kube, namespace = setup.kube, setup.namespace
    checked(apply(kube, namespace, aisystem(FLEET)))
    checked(append_assessment(kube, namespace, FLEET, assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, FLEET, approval("bob"), people.bob))
    settle()
    for kind in EVERY_KIND:
        checked(apply(kube, namespace, workload(kind, f"w-{kind.lower()}", system=FLEET, replicas=2)))

    def fleet() -> dict[str, Any]:
        found: dict[str, Any] = setup.get("aisystem", FLEET).get("status") or {}
        return found

    eventually(lambda: len(fleet().get("boundWorkloads") or []) == len(EVERY_KIND), what="all bound")
    suspended = setup.aigov(people.bob, "suspend", "--reason=audit finding", system=FLEET)
    assert suspended.returncode == 0, suspended.stdout + suspended.stderr
    for kind in EVERY_KIND:
        eventually(partial(lambda k: stop_state(setup, k) == STOPPED.get(k, 0), kind), what=f"{kind} stopped")
    record = {e["kind"]: e for e in fleet()["suspension"]["previousReplicas"]}
    assert {kind: record[kind]["stop"] for kind in ("Deployment", "ReplicationController", "Pod", "DaemonSet")} == {
        "Deployment": "scale", "ReplicationController": "scale", "Pod": "delete", "DaemonSet": "nodeSelector",
    }  # fmt: skip
    assert (
        record["Pod"]["pod"]["spec"]["containers"][0]["image"] == workload("Pod", "x")["spec"]["containers"][0]["image"]
    )

    resumed = setup.aigov(people.carol, "resume", "--justification=finding closed", system=FLEET)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for kind in EVERY_KIND:
        eventually(partial(lambda k: stop_state(setup, k) == RUNNING.get(k, 2), kind), 40, what=f"{kind} restored")
    eventually(lambda: "suspension" not in fleet(), what="suspension archived")
