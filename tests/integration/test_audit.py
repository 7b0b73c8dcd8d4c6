"""The continuous audit on the real control plane: `aigov audit-server` (real OPA, the rendered RBAC) writes
OpenReports and PolicyReports that `aigov audit` reads back.

Workloads are created while their namespace is `off` (no webhook here, as with a namespace the webhook
does not cover); switching it to `enforce`, an approval expiring and fixing the workloads each show in
the reports within one round.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigov.core.config import Config
from aigov.install.rbac import AUDIT_NAME, audit_cluster_role, cluster_role_binding
from devkit.devcluster import ControlPlane, OpaServer, Server, User, free_port
from tests.e2e.objects import VLLM, aisystem, approval, assessment, workload
from tests.integration.conftest import AIGOV, REPO

INTERVAL = 4.0
METRICS_PORT = free_port()
ROUND_TIMEOUT = 30.0
UNREVIEWED_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "modelpools.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "ModelPool", "plural": "modelpools", "singular": "modelpool", "listKind": "ModelPoolList"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "template": {
                                        "type": "object",
                                        "properties": {
                                            "spec": {
                                                "type": "object",
                                                "properties": {
                                                    "containers": {
                                                        "type": "array",
                                                        "items": {
                                                            "type": "object",
                                                            "properties": {
                                                                "name": {"type": "string"},
                                                                "image": {"type": "string"},
                                                            },
                                                        },
                                                    }
                                                },
                                            }
                                        },
                                    }
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def report_crds(aigov_crds: ControlPlane) -> ControlPlane:
    """The real OpenReports and wgpolicyk8s.io PolicyReport CRDs (tests/fixtures/crds), established."""
    for name in ("openreports.io_reports.yaml", "wgpolicyk8s.io_policyreports.yaml"):
        aigov_crds.kubectl("apply", "--server-side", "-f", str(REPO / "tests" / "fixtures" / "crds" / name))
    for crd in ("reports.openreports.io", "policyreports.wgpolicyk8s.io"):
        aigov_crds.wait_established(f"{crd}")
    return aigov_crds


@pytest.fixture(scope="module")
def audit_user(report_crds: ControlPlane) -> User:
    """The audit's identity, bound to exactly the ClusterRole `aigov.install.rbac` renders."""
    subject = {"kind": "User", "name": AUDIT_NAME, "apiGroup": "rbac.authorization.k8s.io"}
    objects = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [audit_cluster_role(), cluster_role_binding(subject, AUDIT_NAME)],
    }
    report_crds.kubectl("apply", "-f", "-", input=json.dumps(objects))
    return report_crds.user(AUDIT_NAME, kubeconfig=report_crds.workdir / f"kubeconfig-{AUDIT_NAME}")


@pytest.fixture(scope="module")
def audit_server(audit_user: User, opa: OpaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`aigov audit-server` writing both report kinds every INTERVAL seconds."""
    workdir = tmp_path_factory.mktemp("audit")
    argv: list[str | Path] = [
        AIGOV, "audit-server", "--kubeconfig", audit_user.kubeconfig, "--opa-url", opa.url,
        "--interval", str(INTERVAL), "--min-gap", "1", "--metrics-port", str(METRICS_PORT), "--host", "127.0.0.1",
        "--reports", "openreports", "--reports", "policyreport",
    ]  # fmt: skip
    server = Server.start("audit", argv, workdir)
    yield server
    server.stop(timeout=20)


def report(kube: ControlPlane, namespace: str, kind: str = "reports.openreports.io") -> dict[str, Any] | None:
    got = kube.kubectl("get", kind, "aigov-audit", "-n", namespace, "-o", "json", check=False)
    return json.loads(got.stdout) if got.returncode == 0 else None


def results(kube: ControlPlane, namespace: str, kind: str = "reports.openreports.io") -> dict[tuple[str, str], str]:
    """(workload name, rule) -> result in the namespace's report."""
    doc = report(kube, namespace, kind) or {}
    return {(r["resources"][0]["name"], r["rule"]): r["result"] for r in doc.get("results") or []}


def eventually(
    kube: ControlPlane,
    namespace: str,
    expected: dict[tuple[str, str], str],
    server: Server,
    kind: str = "reports.openreports.io",
) -> dict[tuple[str, str], str]:
    deadline = time.monotonic() + ROUND_TIMEOUT
    while True:
        got = results(kube, namespace, kind)
        if all(got.get(key) == value for key, value in expected.items()):
            return got
        server.check_alive()
        assert time.monotonic() < deadline, f"report of {namespace}: {got}, expected {expected}"
        time.sleep(0.5)


def cli(kube: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIGOV, "audit", "--kubeconfig", str(kube.kubeconfig), *args], capture_output=True, text=True, check=False
    )


def record(kube: ControlPlane, namespace: str, name: str, status: dict[str, Any]) -> None:
    """Write records as the admin (no record policy here)."""
    patch = json.dumps({"status": status})
    kube.kubectl("patch", "aisystem", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", patch)


def label(kube: ControlPlane, namespace: str, mode: str) -> None:
    kube.kubectl("label", "namespace", namespace, f"aigov.io/enforcement={mode}", "--overwrite")


def test_off_then_enforce_expiry_and_fix(kube: ControlPlane, namespace: str, audit_server: Server) -> None:
    label(kube, namespace, "off")
    shadow = workload("Deployment", "shadow-llm")
    governed = workload("Deployment", "chat", system="chat")
    kube.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [shadow, governed]}),
    )
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(aisystem("chat")))
    patch = {"impactAssessment": assessment("alice"), "approvals": [approval("bob", expires_days=12 / 86400)]}
    record(kube, namespace, "chat", patch)
    time.sleep(INTERVAL)
    assert report(kube, namespace) is None, "an `off` namespace is not audited"

    label(kube, namespace, "enforce")
    got = eventually(kube, namespace, {("shadow-llm", "AIGOV_UNGOVERNED"): "fail"}, audit_server)
    # Still approved, for seconds: an expiry warning, or already the failure.
    assert ("chat", "AIGOV_WARNING") in got or ("chat", "AIGOV_APPROVAL_EXPIRED") in got, got
    doc = report(kube, namespace)
    assert doc is not None
    assert doc["metadata"]["ownerReferences"][0]["kind"] == "Namespace"
    failure = next(r for r in doc["results"] if r["rule"] == "AIGOV_UNGOVERNED")
    assert failure["policy"] == "aigov" and failure["severity"] == "high"
    assert failure["properties"]["mode"] == "enforce"
    assert failure["resources"][0] == {**failure["resources"][0], "kind": "Deployment", "namespace": namespace}
    eventually(
        kube, namespace, {("shadow-llm", "AIGOV_UNGOVERNED"): "fail"}, audit_server, "policyreports.wgpolicyk8s.io"
    )

    # The approval expires (12 s after it was written): the running workload becomes a failure.
    got = eventually(kube, namespace, {("chat", "AIGOV_APPROVAL_EXPIRED"): "fail"}, audit_server)
    assert ("chat", "AIGOV_GOVERNED") not in got
    # A governed system's workload running while it may not run opens one Nonconformity; shadow AI opens none.
    ncs = json.loads(kube.kubectl("get", "nonconformities", "-n", namespace, "-o", "json").stdout)["items"]
    assert [(n["spec"]["system"], n["spec"]["source"], n["spec"]["openedBy"]) for n in ncs] == [
        ("chat", "audit", "aigov-audit")
    ]
    assert ncs[0]["spec"]["summary"].startswith("Deployment/chat is running while chat may not run (AIGOV_APPROVAL_EXP")

    listed = cli(kube, "-n", namespace, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {(f["name"], f["rule"]) for f in json.loads(listed.stdout)}
    assert {("shadow-llm", "AIGOV_UNGOVERNED"), ("chat", "AIGOV_APPROVAL_EXPIRED")} <= rows
    table = cli(kube, "-A")
    assert namespace in table.stdout and "shadow-llm" in table.stdout, table.stdout

    # Fixing: a fresh approval, and the shadow workload registered under the system.
    fresh = {"approvals": [approval("bob", expires_days=30)]}
    record(kube, namespace, "chat", fresh)
    kube.kubectl("label", "deployment", "shadow-llm", "-n", namespace, "aigov.io/system=chat", "--overwrite")
    got = eventually(
        kube, namespace, {("shadow-llm", "AIGOV_GOVERNED"): "pass", ("chat", "AIGOV_GOVERNED"): "pass"}, audit_server
    )
    assert not [key for key, value in got.items() if value == "fail"], got
    assert json.loads(cli(kube, "-n", namespace, "-o", "json").stdout) == []


def test_a_namespace_leaving_enforce_is_counted_and_logged(
    kube: ControlPlane, namespace: str, audit_server: Server
) -> None:
    relaxed = f'aigov_namespace_enforcement{{mode="off",namespace="{namespace}"}} 1.0'

    def metrics() -> str:
        return httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).text

    label(kube, namespace, "off")
    deadline = time.monotonic() + ROUND_TIMEOUT
    while relaxed not in (text := metrics()):
        audit_server.check_alive()
        assert time.monotonic() < deadline, text
        time.sleep(0.5)
    off = re.search(r'^aigov_namespaces\{mode="off"\} (\S+)$', text, re.MULTILINE)
    assert off is not None and float(off.group(1)) >= 1
    logged = rf"WARNING .*namespace {namespace}: enforcement (enforce|\(new namespace\)) -> off"
    assert re.search(logged, audit_server.log_tail(10_000)), audit_server.log_tail()


def test_warn_namespace_still_fails(kube: ControlPlane, namespace: str, audit_server: Server) -> None:
    label(kube, namespace, "warn")
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(workload("StatefulSet", "llm", image=VLLM)))
    eventually(kube, namespace, {("llm", "AIGOV_UNGOVERNED"): "fail"}, audit_server)
    # A round that read the namespaces just before the label changed reports the old mode; the next one
    # (the label change triggers it) reports `warn`, and the result stays a failure.
    deadline = time.monotonic() + ROUND_TIMEOUT
    while (doc := report(kube, namespace)) is None or doc["results"][0]["properties"]["mode"] != "warn":
        assert time.monotonic() < deadline, doc
        audit_server.check_alive()
        time.sleep(0.5)
    assert doc["summary"]["fail"] == 1


def test_unreviewed_ai_kind_is_noticed(kube: ControlPlane, namespace: str, audit_server: Server) -> None:
    kube.kubectl("apply", "-f", "-", input=json.dumps(UNREVIEWED_CRD))
    kube.wait_established("modelpools.example.com")
    grant = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "aigov-audit-modelpools"},
        "rules": [{"apiGroups": ["example.com"], "resources": ["modelpools"], "verbs": ["list"]}],
    }
    subject = {"kind": "User", "name": AUDIT_NAME, "apiGroup": "rbac.authorization.k8s.io"}
    objects = [grant, cluster_role_binding(subject, "aigov-audit-modelpools")]
    kube.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    pool = {
        "apiVersion": "example.com/v1",
        "kind": "ModelPool",
        "metadata": {"name": "pool"},
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": VLLM}]}}},
    }
    plain = {
        **pool,
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}},
    }
    kube.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [pool, plain]}),
    )
    got = eventually(kube, namespace, {("pool", "AIGOV_UNREVIEWED_KIND"): "warn"}, audit_server)
    assert ("web", "AIGOV_UNREVIEWED_KIND") not in got
    assert not any(k.kind == "ModelPool" for k in Config().kinds)
