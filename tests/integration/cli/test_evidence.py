"""`aigov evidence export` of a real estate: people's records, the running operator, Prometheus, Chromium.

One module-wide estate in two namespaces, governed through the CLI by distinct
users while `aigov operator` computes phases and carries out suspensions; an
exporter feeds admission counters to the real Prometheus. The pack is exported
by a read-only auditor and checked field by field, then the report is opened in
headless Chromium (in a network namespace of its own when `unshare` works).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from aigov.core.controls import CONTROLS
from aigov.evidence.pack import verify
from aigov.evidence.report import fetching_tags
from aigov.policy.bundle import policy_dir, read_bundle
from devkit.binaries import find
from devkit.devcluster import LOOPBACK, PrometheusServer, Server, free_port
from tests.integration.cli.conftest import IMAGE, People, apply, get, govern, run, system
from tests.integration.conftest import StartOperator
from tests.polling import eventually
from tests.unit.test_evidence_signing import write_keypair

pytestmark = pytest.mark.cluster
SECRET = "s3cr3t-" + uuid.uuid4().hex
SHA = "cd" * 32


@pytest.fixture(scope="module")
def operator(start_operator: StartOperator, peering_name: str) -> Server:
    """The operator, cluster-wide, for this module."""
    return start_operator(f"--peering={peering_name}", "--resync=30")


def _deployment(name: str, system_name: str, replicas: int, gpus: int = 0, kind: str = "Deployment") -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "server",
        "image": IMAGE,
        "env": [{"name": "API_TOKEN", "value": SECRET}],
        "args": [f"--token={SECRET}"],
    }
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    labels = {"app": name, "aigov.io/system": system_name}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            **({"serviceName": name} if kind == "StatefulSet" else {}),
        },
    }


def _ok(people: People, user: str, ns: str, *args: str) -> None:
    result = run(getattr(people, user), ns, *args)
    assert result.exit_code == 0, result.output


def _assess(people: People, ns: str, name: str) -> None:
    _ok(people, "carol", ns, "assess", name, "--reference", f"https://docs.example.com/{name}/fria.pdf",
        "--sha256", SHA, "--expires", "365d", "--residual-risk", "low")  # fmt: skip


def _approve(people: People, user: str, ns: str, name: str, *, role: str, expires: str = "180d") -> None:
    _ok(people, user, ns, "approve", name, "--role", role, "--expires", expires, "--justification", "reviewed")


def _phase(people: People, ns: str, name: str, phase: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = get(people.kube, ns, name)
        return obj if obj.get("status", {}).get("phase") == phase else None

    found: dict[str, Any] = eventually(probe, timeout=30, what=f"{ns}/{name} in phase {phase}")
    return found


def _replicas(people: People, ns: str, kind: str, name: str) -> int:
    out = people.kube.kubectl("get", kind, name, "-n", ns, "-o", "jsonpath={.spec.replicas}").stdout
    return int(out)


DRIFT_NAMESPACE = f"evidence-lending-{uuid.uuid4().hex[:6]}"
RUNNING_BUNDLE = {"version": "0.0.9+abababababab", "sha256": "ab" * 32}
"""What the running webhook reports (deliberately not the local bundle: the export must record this one)."""


@dataclass(frozen=True)
class Estate:
    """What the module built, and the packs exported from it."""

    lending: str
    support: str
    pack: Path
    everything: Path
    prometheus: PrometheusServer


@pytest.fixture(scope="module")
def admissions(prometheus: PrometheusServer) -> Iterator[Counter]:
    """An exporter of `aigov_admission_requests_total` that Prometheus scrapes every second."""
    registry = CollectorRegistry()
    counter = Counter(
        "aigov_admission_requests", "test copy", ["decision", "code", "kind", "namespace", "mode"], registry=registry
    )
    Gauge("aigov_policy_bundle_info", "test copy", ["version", "sha256"], registry=registry).labels(
        RUNNING_BUNDLE["version"], RUNNING_BUNDLE["sha256"]
    ).set(1)
    # The operator's drift-check gauges for one check of credit-scoring (the namespace is set per estate).
    Gauge("aigov_drift_check_value", "test copy", ["namespace", "aisystem", "check"], registry=registry).labels(
        DRIFT_NAMESPACE, "credit-scoring", "psi"
    ).set(0.31)
    state = Gauge(
        "aigov_drift_check_state", "test copy", ["namespace", "aisystem", "check", "state"], registry=registry
    )
    state.labels(DRIFT_NAMESPACE, "credit-scoring", "psi", "breached").set(1)
    state.labels(DRIFT_NAMESPACE, "credit-scoring", "psi", "ok").set(0)
    port = free_port()
    server, thread = start_http_server(port, addr=LOOPBACK, registry=registry)
    prometheus.set_targets([f"{LOOPBACK}:{port}"])
    yield counter
    prometheus.set_targets([])
    server.shutdown()
    thread.join(5)


def _scraped(prometheus: PrometheusServer, query: str, value: float) -> bool:
    answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": query}, timeout=5).json()
    return any(float(r["value"][1]) == value for r in answer["data"]["result"])


@pytest.fixture(scope="module")
def estate(
    people: People,
    operator: Server,
    admissions: Counter,
    prometheus: PrometheusServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Estate:
    """Two namespaces of governed systems in every state, and packs exported by the auditor."""
    kube = people.kube
    lending, support = DRIFT_NAMESPACE, f"evidence-support-{uuid.uuid4().hex[:6]}"
    for ns in (lending, support):
        kube.kubectl("create", "namespace", ns)
        govern(people, ns)
    apply(kube, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "stringData": {"t": SECRET}},
          namespace=lending)  # fmt: skip
    controls = [
        {"id": "A.5.2", "status": "implemented", "evidence": "https://docs.example.com/fria"},
        {"id": "A.6.2.5", "status": "implemented", "evidence": "aigov admission gate"},
        {"id": "A.7.4", "status": "partial"},
        {"id": "A.8.4", "status": "planned"},
        {"id": "A.10.4", "status": "notApplicable"},
    ]
    apply(
        kube,
        system("credit-scoring", tier="high", owner="Lending DS", controls=controls),
        system("triage", tier="high", owner="Lending DS"),
        system("social-score", tier="prohibited", owner="Nobody"),
        _deployment("credit-scorer", "credit-scoring", replicas=2, gpus=1),
        namespace=lending,
    )
    apply(
        kube,
        system("chatbot", controls=[{"id": "A.8.5", "status": "implemented"}]),
        system("faq-bot"),
        system("summarizer"),
        _deployment("faq", "faq-bot", replicas=3),
        _deployment("summarizer", "summarizer", replicas=2, kind="StatefulSet"),
        namespace=support,
    )
    _assess(people, lending, "credit-scoring")
    _approve(people, "alice", lending, "credit-scoring", role="risk-officer")
    _approve(people, "bob", lending, "credit-scoring", role="cto", expires="20d")
    for name in ("chatbot", "faq-bot", "summarizer"):
        _assess(people, support, name)
        _approve(people, "alice", support, name, role="product-owner")
    _phase(people, lending, "credit-scoring", "Approved")

    _ok(people, "bob", support, "suspend", "faq-bot", "--reason", "harmful answers reported")
    _ok(people, "bob", support, "suspend", "summarizer", "--reason", "data leak suspected")
    eventually(lambda: _replicas(people, support, "statefulset", "summarizer") == 0, what="summarizer stopped")
    _ok(people, "alice", support, "resume", "summarizer", "--justification", "no leak found")
    eventually(lambda: _replicas(people, support, "statefulset", "summarizer") == 2, what="summarizer restored")
    eventually(lambda: not get(kube, support, "summarizer")["status"].get("suspension"), what="suspension archived")
    eventually(lambda: _replicas(people, support, "deployment", "faq") == 0, what="faq stopped")
    _phase(people, support, "faq-bot", "Suspended")
    _phase(people, lending, "triage", "AwaitingAssessment")
    _phase(people, lending, "social-score", "Prohibited")

    for code in ("AIGOV_UNGOVERNED", "AIGOV_APPROVAL_MISSING"):
        admissions.labels("denied", code, "Deployment", lending, "enforce")
    admissions.labels("allowed", "", "Deployment", lending, "enforce")
    eventually(
        lambda: _scraped(prometheus, 'aigov_admission_requests_total{code="AIGOV_UNGOVERNED"}', 0), what="scrape"
    )
    for code, times in (("AIGOV_UNGOVERNED", 5), ("AIGOV_APPROVAL_MISSING", 3)):
        admissions.labels("denied", code, "Deployment", lending, "enforce").inc(times)
    admissions.labels("allowed", "", "Deployment", lending, "enforce").inc(7)
    admissions.labels("denied", "AIGOV_UNGOVERNED", "Pod", support, "enforce").inc(11)
    scraped = 'aigov_admission_requests_total{code="AIGOV_UNGOVERNED",kind="Deployment"}'
    eventually(lambda: _scraped(prometheus, scraped, 5), what="counts scraped")
    time.sleep(2)

    pack = tmp_path_factory.mktemp("pack") / "lending"
    result = run(people.ivan, lending, "evidence", "export", "--out", str(pack), "--prometheus", prometheus.url,
                 "--period", "10m")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    everything = tmp_path_factory.mktemp("pack") / "all"
    admin = run(None, None, "evidence", "export", "-A", "--out", str(everything), "--kubeconfig",
                str(kube.kubeconfig))  # fmt: skip
    assert admin.exit_code == 0, admin.output
    return Estate(lending, support, pack, everything, prometheus)


def _document(pack: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((pack / "evidence.json").read_text())
    return document


def _by_name(document: dict[str, Any], namespace: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in document["systems"] if s["namespace"] == namespace}


def test_pack_files_and_manifest(estate: Estate) -> None:
    assert sorted(p.name for p in estate.pack.iterdir()) == ["evidence.json", "manifest.json", "report.html", "soa.csv"]
    manifest = json.loads((estate.pack / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["evidence.json", "report.html", "soa.csv"]
    assert manifest["algorithm"] == "sha256"
    assert verify(estate.pack) == []
    result = run(None, None, "evidence", "verify", str(estate.pack))
    assert result.exit_code == 0


def test_tampering_is_detected(estate: Estate, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(estate.pack, copy)
    (copy / "soa.csv").write_text((copy / "soa.csv").read_text().replace("planned", "implemented"))
    (copy / "notes.txt").write_text("x")
    result = run(None, None, "evidence", "verify", str(copy))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["soa.csv: sha256 differs from the manifest", "notes.txt: not in the manifest"]


def _keypair(tmp_path: Path, name: str = "pack") -> tuple[Path, Path]:
    return write_keypair(ed25519.Ed25519PrivateKey.generate(), tmp_path, name)


def test_signed_chained_pack_names_exporter_and_cluster(people: People, estate: Estate, tmp_path: Path) -> None:
    private, public = _keypair(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    for out, chain in ((first, ()), (second, ("--previous", str(first)))):
        result = run(people.ivan, estate.lending, "evidence", "export", "--out", str(out), "--period", "10m",
                     "--signing-key", str(private), *chain)  # fmt: skip
        assert result.exit_code == 0, result.output
    document = _document(second)
    uid = people.kube.kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}").stdout
    assert document["cluster"]["uid"] == uid
    assert document["exporter"]["username"] == "ivan"
    assert "auditors" in document["exporter"]["groups"]
    assert document["previousPack"]["digest"].startswith("sha256:")
    ok = run(None, None, "evidence", "verify", str(second), "--public-key", str(public), "--previous", str(first))
    assert ok.exit_code == 0, ok.output
    assert "the signed statement verifies and names every file" in ok.stdout
    # The chain does not hold against another pack, and another key does not verify the signature.
    chained_elsewhere = run(None, None, "evidence", "verify", str(second), "--previous", str(estate.pack))
    assert chained_elsewhere.exit_code == 1
    assert "names previous pack sha256:" in chained_elsewhere.stderr
    _, other = _keypair(tmp_path, "other")
    wrong = run(None, None, "evidence", "verify", str(second), "--public-key", str(other))
    assert wrong.exit_code == 1
    assert "no signature verifies with the public key" in wrong.stderr
    broken = run(people.ivan, estate.lending, "evidence", "export", "--out", str(tmp_path / "third"),
                 "--signing-key", str(public))  # fmt: skip
    assert broken.exit_code == 2
    assert "not an unencrypted PEM private key" in broken.stderr


def test_no_secret_ever_leaves_the_cluster(estate: Estate) -> None:
    for pack in (estate.pack, estate.everything):
        for path in pack.iterdir():
            text = path.read_text()
            assert SECRET not in text, path
            assert "API_TOKEN" not in text
            assert "managedFields" not in text


def test_evidence_document_fields(estate: Estate) -> None:
    document = _document(estate.pack)
    assert document["schema"] == "aigov.io/evidence/v1"
    assert document["scope"] == {"namespaces": [estate.lending]}
    assert document["policyBundle"] == RUNNING_BUNDLE | {
        "source": f"aigov_policy_bundle_info of the running webhooks, from Prometheus at {estate.prometheus.url}"
    }
    local = read_bundle(policy_dir())
    assert _document(estate.everything)["policyBundle"] == {
        "version": local.version,
        "sha256": local.sha256,
        "note": "the running webhooks' bundle was not read (no --prometheus given); "
        "this is the bundle of the exporting aigov",
    }
    assert document["warnings"] == []
    assert [c["id"] for c in document["controls"]] == [c.id.value for c in CONTROLS]
    systems = _by_name(document, estate.lending)
    assert len(systems) == len(document["systems"])
    assert set(systems) == {"credit-scoring", "triage", "social-score", "policy-probe"}

    credit = systems["credit-scoring"]
    assert (credit["namespace"], credit["riskTier"], credit["phase"]) == (estate.lending, "high", "Approved")
    assert credit["assessment"]["assessor"] == "carol"
    assert credit["assessment"]["sha256"] == SHA
    assert [(a["approver"], a["role"], a["images"]) for a in credit["approvals"]] == [
        ("alice", "risk-officer", [IMAGE]),
        ("bob", "cto", [IMAGE]),
    ]
    assert [a["valid"] for a in credit["governance"]["approvals"]] == [True, True]
    assert credit["boundWorkloads"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "credit-scorer", "images": [IMAGE]}
    ]
    assert credit["labelledWorkloads"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "namespace": estate.lending,
            "name": "credit-scorer",
            "system": "credit-scoring",
            "images": [IMAGE],
            "replicas": 2,
            "accelerators": {"nvidia.com/gpu": 1},
            "imageDigests": [{"image": IMAGE, "digest": IMAGE.partition("@")[2]}],
            "models": [],
        }
    ]
    assert credit["classification"] == {"roles": ["deployer"], "rationale": "Annex III(5)(b)"}
    claims = {c["id"]: (c["status"], c["aigov"], c["by"]) for c in credit["controls"]}
    # What the team claimed in spec.controls stands as they wrote it ...
    assert {cid: claim for cid, claim in claims.items() if claim[2] == "spec.controls"} == {
        "A.5.2": ("implemented", "enforced", "spec.controls"),
        "A.6.2.5": ("implemented", "enforced", "spec.controls"),
        "A.7.4": ("partial", "people", "spec.controls"),
        "A.8.4": ("planned", "evidenced", "spec.controls"),
        "A.10.4": ("notApplicable", "people", "spec.controls"),
    }
    # ... and aigov credits what it enforced or recorded for this approved, assessed system, and says so.
    assert claims["A.5.3"] == ("implemented", "evidenced", "aigov")
    assert claims["A.9.4"] == ("implemented", "enforced", "aigov")
    assert claims["A.10.3"] == ("implemented", "enforced", "aigov")
    assert claims["A.4.2"] == ("implemented", "evidenced", "aigov")
    assert "A.7.2" not in claims, "data controls are people's: nothing is credited that aigov did not do"
    assert next(c for c in credit["controls"] if c["id"] == "A.5.2")["evidence"] == "https://docs.example.com/fria"
    assert credit["spec"]["purpose"] == "answers customer questions"
    reasons = {e["reason"] for e in credit["events"]}
    assert reasons, "the operator's phase Events are part of the evidence"
    assert systems["social-score"]["phase"] == "Prohibited"
    assert systems["triage"]["phase"] == "AwaitingAssessment"
    assert [(r["system"], r["record"], r["by"], r["expired"]) for r in document["expiring"]] == [
        (f"{estate.lending}/credit-scoring", "approval (cto)", "bob", False)
    ]


def test_suspensions_in_evidence(estate: Estate) -> None:
    systems = _by_name(_document(estate.everything), estate.support)
    faq = systems["faq-bot"]
    assert faq["phase"] == "Suspended"
    assert (faq["suspension"]["active"], faq["suspension"]["suspendedBy"]) == (True, "bob")
    assert faq["suspension"]["reason"] == "harmful answers reported"
    assert faq["suspension"]["previousReplicas"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "faq", "replicas": 3, "stop": "scale"}
    ]
    summarizer = systems["summarizer"]
    assert summarizer["suspension"] is None
    [past] = summarizer["suspensionHistory"]
    assert (past["suspendedBy"], past["resumedBy"], past["justification"]) == ("bob", "alice", "no leak found")
    assert summarizer["phase"] == "Approved"


def test_admission_decisions_from_prometheus(estate: Estate) -> None:
    decisions = _document(estate.pack)["admissionDecisions"]
    assert decisions["source"] == estate.prometheus.url
    counts = {(c["decision"], c["code"]): c["count"] for c in decisions["byCode"]}
    assert set(counts) == {("denied", "AIGOV_UNGOVERNED"), ("denied", "AIGOV_APPROVAL_MISSING"), ("allowed", "")}
    # increase() extrapolates past the few seconds of samples a test has (never below the true count);
    # the support namespace's 11 Pods are out of scope.
    for key, true in (
        (("denied", "AIGOV_UNGOVERNED"), 5),
        (("denied", "AIGOV_APPROVAL_MISSING"), 3),
        (("allowed", ""), 7),
    ):
        assert true <= counts[key] <= true * 1.5, (key, counts[key])
    series = {s["code"]: s["points"] for s in decisions["deniedOverTime"]}
    assert set(series) == {"AIGOV_UNGOVERNED", "AIGOV_APPROVAL_MISSING"}
    assert max(v for _, v in series["AIGOV_UNGOVERNED"]) > 0
    assert _document(estate.everything)["admissionDecisions"] is None


def test_monitoring_evidence_and_completeness(estate: Estate) -> None:
    document = _document(estate.pack)
    [check] = document["monitoring"]["checks"]
    assert (check["namespace"], check["aisystem"], check["check"]) == (estate.lending, "credit-scoring", "psi")
    assert (check["breaches"], check["last"]) == (1, 0.31)
    assert check["values"] and all(v == 0.31 for _, v in check["values"])
    # credit-scorer runs (2 replicas) and credit-scoring has no drift check in its spec.
    assert document["monitoring"]["coverage"] | {"counted": ""} == {
        "runningAIWorkloads": 1, "underACheck": 0, "share": 0.0, "counted": ""
    }  # fmt: skip
    gaps = {g["part"] for g in document["completeness"]["missing"]}
    assert "admissionDecisions" not in gaps and "monitoring" not in gaps
    assert document["completeness"]["complete"] is False, "no decision log was given"
    everything = _document(estate.everything)
    assert everything["monitoring"]["checks"] is None
    assert {"admissionDecisions", "monitoring"} <= {g["part"] for g in everything["completeness"]["missing"]}
    assert "Admission decisions are missing from this pack" in (estate.everything / "report.html").read_text()


def test_statement_of_applicability(estate: Estate) -> None:
    rows = list(csv.DictReader(io.StringIO((estate.everything / "soa.csv").read_text())))
    assert [r["control"] for r in rows] == [c.id.value for c in CONTROLS]
    credit, chatbot = f"{estate.lending}/credit-scoring", f"{estate.support}/chatbot"
    by_id = {r["control"]: r for r in rows}
    assert by_id["A.5.2"][credit] == "implemented"
    assert by_id["A.7.4"][credit] == "partial"
    assert by_id["A.8.4"][credit] == "planned"
    assert by_id["A.10.4"][credit] == "notApplicable"
    assert by_id["A.2.2"][credit] == "notAddressed"
    assert by_id["A.8.5"][chatbot] == "implemented"
    assert (by_id["A.6.2.5"]["aigov"], by_id["A.6.2.8"]["aigov"], by_id["A.2.2"]["aigov"]) == (
        "enforced",
        "evidenced",
        "people",
    )
    assert by_id["A.6.2.6"]["automation"] == "drift checks and automatic suspension"


def test_auditor_without_workload_access_gets_warnings(people: People, estate: Estate, tmp_path: Path) -> None:
    kube = people.kube
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "ais-only"},
            "rules": [{"apiGroups": ["aigov.io"], "resources": ["aisystems"], "verbs": ["list"]}]}  # fmt: skip
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "ais-only"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ais-only"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "nina"}]}  # fmt: skip
    apply(kube, role, binding, namespace=estate.lending)
    nina = kube.user("nina")
    result = run(nina, estate.lending, "evidence", "export", "--out", str(tmp_path / "pack"))
    assert result.exit_code == 0, result.output
    warnings = _document(tmp_path / "pack")["warnings"]
    # Events and every served kind of the table; kinds whose CRD is not installed are no gap.
    built_in = ["pods", "replicationcontrollers", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs"]
    assert {w.split(" ")[0] for w in warnings} >= {"events", *built_in, "cronjobs"}
    assert not any(w.startswith("leaderworkersets") for w in warnings)
    assert all("Forbidden" in w for w in warnings)
    assert "warning: events" in result.stderr
    refused = run(nina, None, "evidence", "export", "-A", "--out", str(tmp_path / "all"))
    assert refused.exit_code == 1
    assert 'cannot list resource "aisystems"' in refused.stderr
    unusable = run(nina, estate.lending, "evidence", "export", "--out", str(estate.pack.parent))
    assert unusable.exit_code == 2


def _chromium(*args: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium that cannot reach the network: its own network namespace when possible, no DNS ever."""
    isolate = ["unshare", "--net"] if subprocess.run(["unshare", "--net", "true"], check=False).returncode == 0 else []
    argv = [
        *isolate, str(find("chromium")), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={workdir / 'profile'}", '--host-resolver-rules=MAP * ~NOTFOUND',
        f"--log-net-log={workdir / 'net.json'}", *args,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _requested(net_log: Path) -> set[str]:
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {e["params"]["url"] for e in log["events"] if e["type"] == start and "url" in (e.get("params") or {})}


def test_report_renders_in_chromium_offline(estate: Estate, tmp_path: Path) -> None:
    report = estate.everything / "report.html"
    html = report.read_text()
    assert fetching_tags(html) == []
    assert "https://docs.example.com/" in html, "references are shown as text"

    dom = _chromium("--dump-dom", report.as_uri(), workdir=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in ("summary", "inventory", "expiring", "suspensions", "denials", "controls", "systems", "about"):
        assert f'<section id="{section}">' in dom.stdout
    assert dom.stdout.count("<svg") >= 2
    assert "faq-bot" in dom.stdout
    assert "harmful answers reported" in dom.stdout

    shot = tmp_path / "report.png"
    result = _chromium("--window-size=1280,3600", f"--screenshot={shot}", report.as_uri(), workdir=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1280, 3600)
    assert len(png) > 100_000, "a blank page compresses to a few kilobytes"
    for url in _requested(tmp_path / "net.json"):
        host = urlsplit(url).hostname or ""
        assert url.startswith("file://") or host.endswith(("google.com", "googleapis.com", "gstatic.com")), url
        assert "example" not in url
