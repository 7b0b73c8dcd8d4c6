"""Smoke tests: the local servers are real and answer."""

from __future__ import annotations

import json

import httpx

from aigov.policy.bundle import read_bundle
from devkit.devcluster import LOOPBACK, ControlPlane, GaugeExporter, OpaServer, PrometheusServer


def test_configmap_round_trip(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("create", "configmap", "smoke", "-n", namespace, "--from-literal=answer=42")
    got = json.loads(kube.kubectl("get", "configmap", "smoke", "-n", namespace, "-o", "json").stdout)
    assert got["data"] == {"answer": "42"}


def test_kubectl_version_reports_pinned_server(kube: ControlPlane) -> None:
    version = json.loads(kube.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.35.4"
    assert version["clientVersion"]["gitVersion"] == "v1.35.4"


def test_rbac_denies_user_without_bindings(kube: ControlPlane, namespace: str) -> None:
    nobody = kube.user("nobody", ("aigov:test",))
    result = kube.kubectl("get", "configmaps", "-n", namespace, user=nobody, check=False)
    assert result.returncode != 0
    assert "forbidden" in result.stderr.lower()
    assert 'User "nobody"' in result.stderr


def test_opa_serves_the_shipped_bundle_on_loopback_like_the_chart(opa: OpaServer) -> None:
    argv = opa.server.process.args
    assert isinstance(argv, list)
    assert {"--disable-telemetry", "--authorization=basic", f"--addr={LOOPBACK}:{opa.port}"} <= set(argv)
    with httpx.Client(base_url=opa.url) as client:
        manifests = client.get("/v1/data/system/bundles").json()["result"]
        assert [m["manifest"]["revision"] for m in manifests.values()] == [read_bundle().sha256]
        assert client.post("/v1/data/aigov/admission/decision", json={"input": {}}).status_code == 200


def test_prometheus_scrapes_a_target(prometheus: PrometheusServer) -> None:
    exporter = GaugeExporter("aigov_smoke")
    try:
        prometheus.set_targets([exporter.address])
        exporter.set("scrape", 7.0, prometheus.url, timeout=30)
        answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": exporter.query("scrape")}).json()
        assert answer["data"]["result"][0]["value"][1] == "7"
    finally:
        exporter.close()
