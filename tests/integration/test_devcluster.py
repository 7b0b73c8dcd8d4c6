"""Smoke tests: the local servers are real and answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from aigov.devcluster import LOOPBACK, ControlPlane, OpaServer, PrometheusServer


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


def test_opa_answers_a_query_on_a_policy_from_policies_dir(opa: OpaServer) -> None:
    policy = 'package aigov.smoke\n\ngreeting := sprintf("hello %s", [input.name])\n'
    with httpx.Client(base_url=opa.url) as client:
        assert client.put("/v1/policies/smoke", content=policy).status_code == 200
        answer = client.post("/v1/data/aigov/smoke/greeting", json={"input": {"name": "aigov"}}).json()
    assert answer["result"] == "hello aigov"


class _Gauge(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"# TYPE aigov_smoke gauge\naigov_smoke 7\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def exporter() -> Iterator[str]:
    server = HTTPServer((LOOPBACK, 0), _Gauge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{LOOPBACK}:{server.server_port}"
    server.shutdown()


def test_prometheus_scrapes_a_target(prometheus: PrometheusServer, exporter: str) -> None:
    prometheus.set_targets([exporter])
    deadline = time.monotonic() + 30
    result: list[dict[str, object]] = []
    with httpx.Client(base_url=prometheus.url) as client:
        while time.monotonic() < deadline and not result:
            result = client.get("/api/v1/query", params={"query": "aigov_smoke"}).json()["data"]["result"]
            time.sleep(0.5)
    assert result, "Prometheus did not scrape the exporter within 30s"
    assert result[0]["value"][1] == "7"  # type: ignore[index]
