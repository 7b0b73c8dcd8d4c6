"""Drift checks and suspension end to end: a real Prometheus scraping a test exporter, a real API server, the operator.

Each test runs its own operator, standalone and limited to the test's
namespace, so it can point at a Prometheus that answers or one that does not,
and can be started after the cluster was left mid-suspension. The exporter
serves `aigov_test_drift{case="..."}` with values the tests set; Prometheus
scrapes it every second. No Pods run here (no controller-manager), but
`spec.replicas` and the scale subresource behave as in any cluster.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigov.core.model import rfc3339
from aigov.install.rbac import cluster_role, cluster_role_binding
from devkit import binaries
from devkit.devcluster import (
    LOOPBACK,
    ControlPlane,
    GaugeExporter,
    PrometheusServer,
    Server,
    User,
    free_port,
    wait_until,
)
from tests.integration.conftest import REPO, StartOperator
from tests.polling import eventually

pytestmark = pytest.mark.cluster

INTERVAL = 10
"""The checks' intervalSeconds (the CRD's minimum)."""
TOKEN = "s3cret-alertmanager-token"


@pytest.fixture(scope="module")
def exporter(prometheus: PrometheusServer) -> Iterator[GaugeExporter]:
    """The drift exporter, scraped by the session's Prometheus."""
    served = GaugeExporter()
    prometheus.set_targets([served.address])
    yield served
    prometheus.set_targets([])
    served.close()


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alertmanager") / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture(scope="module")
def namespaced_rbac(operator_user: User, kube: ControlPlane) -> None:
    """The operator's role for serving chosen namespaces (kopf lists namespaces then)."""
    name = "aigov-operator-namespaced"
    subject = {"kind": "User", "name": operator_user.name, "apiGroup": "rbac.authorization.k8s.io"}
    objects = [cluster_role(name, clusterwide=False), cluster_role_binding(subject, name)]
    kube.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


@pytest.fixture(scope="module")
def kserve(kube: ControlPlane) -> None:
    """The minimal InferenceService CRD, established before any operator starts."""
    kube.kubectl("apply", "--server-side", "-f", str(REPO / "tests" / "e2e" / "testdata" / "kserve-crd.yaml"))
    kube.wait_established("inferenceservices.serving.kserve.io")


class Case:
    """One test's namespace, drift series, operator and helpers."""

    def __init__(
        self, kube: ControlPlane, namespace: str, exporter: GaugeExporter, prometheus: PrometheusServer
    ) -> None:
        self.kube, self.namespace, self.exporter, self.prometheus = kube, namespace, exporter, prometheus
        self.case = uuid.uuid4().hex[:10]
        self.metrics_port = free_port()
        self.operator: Server | None = None

    @property
    def query(self) -> str:
        return self.exporter.query(self.case)

    def drift(self, value: float | None) -> None:
        """Set the exported value (None removes the series) and wait until Prometheus has it."""
        self.exporter.set(self.case, value, self.prometheus.url)

    def start(self, start_operator: StartOperator, prometheus_url: str | None = None, *flags: str) -> Server:
        self.operator = start_operator(
            f"--namespace={self.namespace}",
            "--standalone",
            f"--prometheus-url={prometheus_url or self.prometheus.url}",
            f"--metrics-port={self.metrics_port}",
            f"--metrics-host={LOOPBACK}",
            *flags,
            name=f"operator-{self.namespace[:40]}",
        )
        return self.operator

    def apply(self, *objects: dict[str, Any]) -> None:
        body = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
        self.kube.kubectl("apply", "-n", self.namespace, "-f", "-", input=json.dumps(body))

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            self.kube.kubectl("get", kind, name, "-n", self.namespace, "-o", "json").stdout
        )
        return found

    def status(self, name: str = "bot") -> dict[str, Any]:
        found: dict[str, Any] = self.get("aisystem", name).get("status") or {}
        return found

    def check(self, name: str = "bot") -> dict[str, Any]:
        checks = (self.status(name).get("monitoring") or {}).get("checks") or [{}]
        found: dict[str, Any] = checks[0]
        return found

    def condition(self, kind: str, name: str = "bot") -> dict[str, Any]:
        found: dict[str, Any] = next((c for c in self.status(name).get("conditions", []) if c["type"] == kind), {})
        return found

    def replicas(self, kind: str, name: str) -> int | None:
        found: int | None = self.get(kind, name)["spec"].get("replicas")
        return found

    def write_status(self, status: dict[str, Any], name: str = "bot") -> None:
        patch = json.dumps({"status": status})
        self.kube.kubectl(
            "patch", "aisystem", name, "-n", self.namespace, "--subresource=status", "--type=merge", "-p", patch
        )

    def events(self) -> dict[str, dict[str, Any]]:
        """The AISystem's Events by reason (the last of each)."""
        listed = json.loads(self.kube.kubectl("get", "events", "-n", self.namespace, "-o", "json").stdout)["items"]
        return {e["reason"]: e for e in listed if e["involvedObject"].get("kind") == "AISystem"}

    def metrics(self) -> str:
        return httpx.get(f"http://{LOOPBACK}:{self.metrics_port}/metrics").text


@pytest.fixture
def case(
    kube: ControlPlane, namespace: str, exporter: GaugeExporter, prometheus: PrometheusServer, namespaced_rbac: None
) -> Iterator[Case]:
    """A test's case; its operator is stopped at the end of the test."""
    current = Case(kube, namespace, exporter, prometheus)
    yield current
    current.exporter.values.pop(current.case, None)
    if current.operator is not None:
        current.operator.stop(timeout=20)


def system(query: str, hold: str = "5s", action: str = "suspend", missing: str = "alert") -> dict[str, Any]:
    check = {"name": "psi", "query": query, "comparator": ">", "threshold": 0.25, "for": hold}
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "bot"},
        "spec": {
            "purpose": "scores credit applications",
            "riskTier": "minimal",
            "monitoring": {
                "intervalSeconds": INTERVAL,
                "checks": [check | {"action": action, "onMissingData": missing}],
            },
        },
    }


LABELS = {"aigov.io/system": "bot"}
CONTAINERS = [{"name": "server", "image": "vllm/vllm-openai:v0.6.0"}]
TEMPLATE = {
    "metadata": {"labels": {"app": "bot"}},
    "spec": {"containers": CONTAINERS},
}


def deployment(replicas: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "labels": LABELS},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "bot"}}, "template": TEMPLATE},
    }


def statefulset(replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "cache", "labels": LABELS},
        "spec": {
            "replicas": replicas,
            "serviceName": "cache",
            "selector": {"matchLabels": {"app": "bot"}},
            "template": TEMPLATE,
        },
    }


RECORDED = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "replicas": 3, "stop": "scale"},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "cache", "replicas": 2, "stop": "scale"},
]


def bound(case: Case, count: int) -> bool:
    return len(case.status().get("boundWorkloads") or []) == count


def test_a_breach_shorter_than_for_does_nothing(case: Case, start_operator: StartOperator) -> None:
    case.drift(0.1)
    case.apply(system(case.query, hold="30s"), deployment(), statefulset())
    case.start(start_operator)
    eventually(lambda: case.check().get("state") == "ok", what="the check evaluated ok")
    case.drift(0.9)
    pending = eventually(lambda: (c := case.check()).get("state") == "pending" and c, timeout=INTERVAL + 5)
    case.drift(0.1)
    eventually(lambda: case.check().get("state") == "ok", timeout=INTERVAL + 5, what="the check back to ok")
    assert pending["lastValue"] == 0.9
    assert "suspension" not in case.status()
    assert (case.replicas("deployment", "api"), case.replicas("statefulset", "cache")) == (3, 2)
    assert case.condition("ChecksPassing")["status"] == "True"


def test_a_sustained_breach_suspends_and_a_resume_restores(case: Case, start_operator: StartOperator) -> None:
    case.drift(0.1)
    case.apply(system(case.query), deployment(), statefulset())
    case.start(start_operator)
    eventually(lambda: case.check().get("state") == "ok" and bound(case, 2), what="ok check, both workloads bound")

    case.drift(0.9)
    began = time.monotonic()
    suspension = eventually(
        lambda: (s := case.status().get("suspension")) and s.get("active") and s,
        timeout=2 * INTERVAL + 3,
        what="suspended within two intervals",
    )
    eventually(lambda: case.replicas("deployment", "api") == 0 and case.replicas("statefulset", "cache") == 0)
    print(f"breach seen by Prometheus -> zero replicas: {time.monotonic() - began:.1f}s")
    assert suspension["reason"] == "CheckBreached" and suspension["check"] == "psi"
    assert suspension["value"] == 0.9 and suspension["suspendedBy"] == "aigov-operator"
    eventually(lambda: case.status()["suspension"].get("previousReplicas") == RECORDED, what="replicas recorded")
    eventually(lambda: case.status().get("phase") == "Suspended", what="phase Suspended")
    assert case.condition("Suspended")["status"] == "True"
    assert case.condition("ChecksPassing")["reason"] == "CheckBreached"
    events = eventually(lambda: (e := case.events()).keys() >= {"CheckBreached", "WorkloadsStopped"} and e)
    assert events["CheckBreached"]["type"] == events["WorkloadsStopped"]["type"] == "Warning"
    assert "Deployment/api (3 -> 0)" in events["WorkloadsStopped"]["message"]

    metrics = case.metrics()
    labels = f'aisystem="bot",namespace="{case.namespace}"'
    assert f"aigov_suspended{{{labels}}} 1.0" in metrics
    assert f'aigov_suspensions_total{{{labels},reason="CheckBreached"}} 1.0' in metrics
    per_check = f'aisystem="bot",check="psi",namespace="{case.namespace}"'
    assert f'aigov_drift_check_state{{{per_check},state="breached"}} 1.0' in metrics
    assert f"aigov_drift_check_value{{{per_check}}} 0.9" in metrics

    resumed = {"active": False, "resumedAt": rfc3339(datetime.now(UTC)), "resumedBy": "bob", "justification": "ok"}
    case.write_status({"suspension": resumed})
    eventually(lambda: (case.replicas("deployment", "api"), case.replicas("statefulset", "cache")) == (3, 2))
    eventually(lambda: "suspension" not in case.status(), what="the suspension archived")
    (archived,) = case.status()["suspensionHistory"]
    assert archived["previousReplicas"] == RECORDED and archived["resumedBy"] == "bob"
    assert "restored Deployment/api (0 -> 3)" in eventually(lambda: case.events().get("WorkloadsRestored"))["message"]

    # Still breaching: the person's resume stands until the check recovers and breaches again.
    evaluated = case.check()["lastEvaluatedAt"]
    eventually(lambda: case.check()["lastEvaluatedAt"] != evaluated, timeout=INTERVAL + 5, what="another round")
    assert "suspension" not in case.status()
    assert case.replicas("deployment", "api") == 3


def test_prometheus_unreachable_changes_nothing_but_shows(case: Case, start_operator: StartOperator) -> None:
    case.apply(system(case.query, hold="0s", missing="suspend"), deployment(), statefulset())
    case.start(start_operator, f"http://{LOOPBACK}:{free_port()}")
    check = eventually(
        lambda: (c := case.check()).get("consecutiveErrors", 0) >= 2 and c,
        timeout=2 * INTERVAL + 5,
        what="two failed rounds",
    )
    assert check["state"] == "error" and "unreachable" in check["lastError"]
    assert case.condition("ChecksPassing")["reason"] == "CheckError"
    assert "suspension" not in case.status()
    assert (case.replicas("deployment", "api"), case.replicas("statefulset", "cache")) == (3, 2)
    assert "CheckQueryFailed" in case.events()
    assert f'aisystem="bot",check="psi",namespace="{case.namespace}",state="error"}} 1.0' in case.metrics()


def test_missing_data_with_alert_only_alerts_and_removed_checks_clear(
    case: Case, start_operator: StartOperator
) -> None:
    case.apply(system(case.query, hold="0s", missing="alert"), deployment())
    case.start(start_operator)
    eventually(lambda: case.check().get("state") == "noData", timeout=INTERVAL, what="no data seen")
    eventually(lambda: "NoData" in case.events(), what="a NoData Event")
    assert case.condition("ChecksPassing")["reason"] == "CheckNoData"
    assert "suspension" not in case.status()
    assert case.replicas("deployment", "api") == 3

    remove = json.dumps([{"op": "remove", "path": "/spec/monitoring"}])
    case.kube.kubectl("patch", "aisystem", "bot", "-n", case.namespace, "--type=json", "-p", remove)
    eventually(
        lambda: "monitoring" not in case.status() and not case.condition("ChecksPassing"),
        what="monitoring state cleared once the checks are gone",
    )


def test_operator_killed_between_record_and_scaling_converges(case: Case, start_operator: StartOperator) -> None:
    case.apply(system(case.query, hold="1h"), deployment(), statefulset())
    record = {
        "active": True,
        "since": rfc3339(datetime.now(UTC)),
        "reason": "CheckBreached",
        "suspendedBy": "aigov-operator",
        "check": "psi",
        "value": 0.9,
        "previousReplicas": RECORDED,
    }
    case.write_status({"suspension": record})
    case.start(start_operator)
    eventually(lambda: (case.replicas("deployment", "api"), case.replicas("statefulset", "cache")) == (0, 0))
    assert case.status()["suspension"]["previousReplicas"] == RECORDED
    assert case.events()["WorkloadsStopped"]["type"] == "Warning"


def test_a_manual_suspension_records_then_stops_every_kind(
    case: Case, start_operator: StartOperator, kserve: None
) -> None:
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llm", "labels": LABELS},
        "spec": {"predictor": {"containers": [{"name": "kserve-container", "image": "kserve/huggingfaceserver:v0"}]}},
    }
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "batch-score", "labels": LABELS},
        "spec": {
            "schedule": "0 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": CONTAINERS}}}},
        },
    }
    case.apply(system(case.query, hold="1h"), deployment(), isvc, cron)
    case.start(start_operator)
    eventually(lambda: bound(case, 3), what="three bound workloads")
    case.write_status(
        {
            "suspension": {
                "active": True,
                "since": rfc3339(datetime.now(UTC)),
                "reason": "ann saw bias",
                "suspendedBy": "ann",
            }
        }
    )
    recorded = eventually(lambda: case.status()["suspension"].get("previousReplicas"), what="replicas recorded")
    assert {(r["kind"], r["replicas"]) for r in recorded} == {
        ("Deployment", 3),
        ("InferenceService", 1),
        ("CronJob", 1),
    }
    eventually(lambda: case.replicas("deployment", "api") == 0)
    eventually(
        lambda: case.get("isvc", "llm")["metadata"].get("annotations", {}).get("serving.kserve.io/stop") == "true"
    )
    eventually(lambda: case.get("cronjob", "batch-score")["spec"].get("suspend") is True)
    assert 'reason="Manual"' in case.metrics()

    case.write_status({"suspension": {"active": False, "resumedAt": rfc3339(datetime.now(UTC)), "resumedBy": "bob"}})
    eventually(lambda: case.replicas("deployment", "api") == 3)
    eventually(lambda: "serving.kserve.io/stop" not in case.get("isvc", "llm")["metadata"].get("annotations", {}))
    eventually(lambda: case.get("cronjob", "batch-score")["spec"].get("suspend") is False)


def test_a_retired_system_has_its_workloads_stopped_for_good(case: Case, start_operator: StartOperator) -> None:
    case.apply(system(case.query, hold="1h"), deployment(), statefulset())
    case.start(start_operator)
    eventually(lambda: bound(case, 2), what="both workloads bound")
    retired = {"retiredBy": "bob", "retiredAt": rfc3339(datetime.now(UTC)), "justification": "replaced by bot-v2"}
    case.write_status({"retirement": retired})
    eventually(lambda: case.replicas("deployment", "api") == 0 and case.replicas("statefulset", "cache") == 0)
    stopped = eventually(lambda: case.events().get("WorkloadsStopped"), what="WorkloadsStopped event")
    assert stopped["message"].startswith("retired by bob: stopped ")
    eventually(lambda: case.status().get("phase") == "Retired", what="phase Retired")
    assert "suspension" not in case.status()
    # Scaled up behind the webhook's back (none here): the recheck stops it again.
    case.kube.kubectl("scale", "deployment", "api", "--replicas=2", "-n", case.namespace)
    eventually(lambda: case.replicas("deployment", "api") == 0, timeout=40, what="stopped again")


def alert(namespace: str, status: str = "firing") -> dict[str, Any]:
    labels = {"alertname": "ModelDrift", "namespace": namespace, "aisystem": "bot", "severity": "critical"}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ModelDrift"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "aigov",
        "groupLabels": {"alertname": "ModelDrift"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": "drift"},
                "startsAt": rfc3339(datetime.now(UTC)),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "0123456789abcdef",
            }
        ],
    }


def test_alertmanager_suspends_only_with_the_token(case: Case, start_operator: StartOperator, token_file: Path) -> None:
    case.apply(system(case.query, hold="1h"), deployment())
    case.start(start_operator, None, f"--alertmanager-token-file={token_file}")
    url = f"http://{LOOPBACK}:{case.metrics_port}/alertmanager"
    payload = alert(case.namespace)
    assert httpx.post(url, json=payload).status_code == 401
    assert httpx.post(url, json=payload, headers={"Authorization": "Bearer wrong"}).status_code == 401
    time.sleep(1)
    assert "suspension" not in case.status()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(url, json=alert(case.namespace, "resolved"), headers=auth).json() == {"results": []}
    assert httpx.post(url, json={"version": "3", "alerts": []}, headers=auth).status_code == 400
    answer = httpx.post(url, json=payload, headers=auth)
    assert answer.status_code == 200
    assert answer.json()["results"] == [{"namespace": case.namespace, "aisystem": "bot", "result": "suspended"}]
    eventually(lambda: case.replicas("deployment", "api") == 0)
    suspension = case.status()["suspension"]
    assert (suspension["reason"], suspension["check"]) == ("AlertFiring", "ModelDrift")
    again = httpx.post(url, json=payload, headers=auth).json()["results"][0]["result"]
    assert again.startswith("unchanged")


def test_an_alert_from_the_future_or_without_start_does_not_suspend(
    case: Case, start_operator: StartOperator, token_file: Path
) -> None:
    """Clock skew or a bad payload must not override a person's resume; a real breach after the resume still counts."""
    case.apply(system(case.query, hold="1h"), deployment())
    resumed = {"active": False, "resumedAt": rfc3339(datetime.now(UTC)), "resumedBy": "bob", "justification": "ok"}
    case.write_status({"suspensionHistory": [resumed]})
    case.start(start_operator, None, f"--alertmanager-token-file={token_file}")
    url, auth = f"http://{LOOPBACK}:{case.metrics_port}/alertmanager", {"Authorization": f"Bearer {TOKEN}"}

    def post(starts_at: str | None) -> str:
        payload = alert(case.namespace)
        payload["alerts"][0]["startsAt"] = starts_at
        result: str = httpx.post(url, json=payload, headers=auth).json()["results"][0]["result"]
        return result

    assert "after the operator's clock" in post(rfc3339(datetime.now(UTC) + timedelta(minutes=10)))
    assert "no valid startsAt" in post(None)
    assert post(rfc3339(datetime.now(UTC) - timedelta(hours=1))).startswith("unchanged")
    time.sleep(1)
    assert "suspension" not in case.status()
    assert post(rfc3339(datetime.now(UTC))) == "suspended"


def test_operator_metrics_pass_promtool(case: Case, start_operator: StartOperator) -> None:
    case.drift(0.1)
    case.apply(system(case.query), deployment())
    case.start(start_operator)
    eventually(lambda: "aigov_drift_check_value" in case.metrics(), what="check metrics exposed")
    checked = subprocess.run(
        [str(binaries.find("promtool")), "check", "metrics"],
        input=case.metrics(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_real_alertmanager_route_suspends(
    case: Case, start_operator: StartOperator, token_file: Path, tmp_path: Path
) -> None:
    case.apply(system(case.query, hold="1h"), deployment())
    case.start(start_operator, None, f"--alertmanager-token-file={token_file}")
    port = free_port()
    route = {"receiver": "aigov", "group_by": ["namespace", "aisystem"], "group_wait": "0s", "group_interval": "1s"}
    webhook = {
        "url": f"http://{LOOPBACK}:{case.metrics_port}/alertmanager",
        "send_resolved": False,
        "http_config": {"authorization": {"credentials_file": str(token_file)}},
    }
    config = {"route": route, "receivers": [{"name": "aigov", "webhook_configs": [webhook]}]}
    (tmp_path / "alertmanager.yml").write_text(json.dumps(config))
    alertmanager = Server.start(
        "alertmanager",
        [
            binaries.find("alertmanager"), f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'data'}", f"--web.listen-address={LOOPBACK}:{port}",
            "--cluster.listen-address=",
        ],
        tmp_path,
    )  # fmt: skip
    try:
        with httpx.Client() as probe:
            wait_until(alertmanager, probe, f"http://{LOOPBACK}:{port}/-/ready", 30)
        labels = {"alertname": "ModelDrift", "namespace": case.namespace, "aisystem": "bot"}
        posted = httpx.post(f"http://{LOOPBACK}:{port}/api/v2/alerts", json=[{"labels": labels}])
        assert posted.status_code == 200, posted.text
        eventually(lambda: case.replicas("deployment", "api") == 0, what="suspended through Alertmanager")
        assert case.status()["suspension"]["reason"] == "AlertFiring"
    finally:
        alertmanager.stop()
