"""The benchmark harness: the peers do aigov's detection, and the benchmarks that need no peer binary run.

Gatekeeper itself is not started here (hack/peers builds it for `make bench`
only), but its template's Rego runs in a real OPA: on every object of the
hand-labelled corpus it must flag exactly what aigov's policies flag as
AIGOV_UNGOVERNED, with the same evidence. Strict namespaces are aigov-only
(Gatekeeper's input carries no namespace labels); the corpus has none. The
quick modes of the Python-path, OPA-floor, scale, operator-scale and through-the-API-server
benchmarks (aigov and the VAP) run end to end; no timing is asserted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from aigov.core.config import Config
from aigov.policy.input import Namespace, admission_request, build
from aigov.policy.opa import PACKAGE, RULE
from devkit.devcluster import start_opa
from devkit.loadgen import aisystem, review
from devkit.peers import start_template_opa

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"


def corpus() -> list[dict[str, Any]]:
    """Every object of the corpus (documents that are not objects left out)."""
    objects = []
    for path in sorted(CORPUS.glob("*/objects.yaml")):
        objects += [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict) and "kind" in doc]
    return objects


def evidence(message: str) -> str:
    """The evidence list of an AIGOV_UNGOVERNED message: "... is an AI workload (EVIDENCE) but has no ..."."""
    found = re.search(r"is an AI workload \((.*)\) but has no", message)
    assert found, message
    return found.group(1)


def test_gatekeeper_template_flags_exactly_what_aigov_flags_as_ungoverned(tmp_path: Path) -> None:
    config, now = Config(), datetime(2026, 6, 1, tzinfo=UTC)
    opa = start_opa(tmp_path / "opa")
    try:
        template = start_template_opa(tmp_path / "template", config)
    except BaseException:
        opa.server.stop()
        raise
    try:
        with httpx.Client(base_url=opa.url, timeout=30) as client, httpx.Client(base_url=template.url) as peer:
            objects = corpus()
            assert len(objects) > 500
            flagged = {"aigov": 0, "gatekeeper": 0}
            for obj in objects:
                request = admission_request(obj, "team")
                document = build(request, None, Namespace("team"), now)
                decision = client.post(f"/v1/data/{PACKAGE.replace('.', '/')}/{RULE}", json={"input": document})
                found = decision.json()["result"]["violations"]
                codes = {v["code"] for v in found}
                violations = peer.post("/v1/data/aigovungoverned/violation", json={"input": {"review": request}})
                gatekeeper = violations.json()["result"]
                name = f"{obj['kind']}/{obj.get('metadata', {}).get('name')}"
                assert ("AIGOV_UNGOVERNED" in codes) == bool(gatekeeper), name
                flagged["aigov"] += "AIGOV_UNGOVERNED" in codes
                flagged["gatekeeper"] += bool(gatekeeper)
                if gatekeeper:
                    assert gatekeeper[0]["msg"].startswith("AIGOV_UNGOVERNED: "), gatekeeper
                    ours = next(v["message"] for v in found if v["code"] == "AIGOV_UNGOVERNED")
                    assert evidence(gatekeeper[0]["msg"]) == evidence(ours), name
            assert flagged["aigov"] > 100
    finally:
        opa.server.stop()
        template.server.stop()


def test_the_governed_gatekeeper_template_decides_as_aigov(tmp_path: Path) -> None:
    config, now = Config(), datetime.now(UTC)
    opa = start_opa(tmp_path / "opa")
    try:
        template = start_template_opa(tmp_path / "template", config, governed=True)
    except BaseException:
        opa.server.stop()
        raise
    obj, status = aisystem("support-chatbot", "team")
    unapproved = obj | {"metadata": obj["metadata"] | {"name": "unapproved"}, "status": status | {"approvals": []}}
    suspended = obj | {"metadata": obj["metadata"] | {"name": "suspended"}}
    suspended["status"] = status | {"suspension": status["suspension"] | {"active": True}}
    systems = {s["metadata"]["name"]: s for s in (obj | {"status": status}, unapproved, suspended)}
    inventory = {"namespace": {"team": {"aigov.io/v1alpha1": {"AISystem": systems}}}}
    reviews = [admission_request(o, "team") for o in corpus()[::7]]
    for name in (*systems, "missing"):
        request = review("governed", "team")["request"]
        request["object"]["metadata"]["labels"][config.system_label] = name
        reviews.append(request)
    try:
        with httpx.Client(base_url=opa.url, timeout=30) as client, httpx.Client(base_url=template.url) as peer:
            assert peer.put("/v1/data/inventory", json=inventory).status_code == 204
            verdicts = []
            for request in reviews:
                name = request["object"]["metadata"].get("labels", {}).get(config.system_label, "")
                document = build(request, systems.get(name), Namespace("team"), now)
                decision = client.post(f"/v1/data/{PACKAGE.replace('.', '/')}/{RULE}", json={"input": document})
                ours = decision.json()["result"]
                theirs = peer.post("/v1/data/aigovgoverned/violation", json={"input": {"review": request}})
                found = theirs.json()["result"]
                assert ours["allowed"] == (not found), request["name"]
                assert [m["msg"] for m in found] == (
                    [] if ours["allowed"] else ["; ".join(v["message"] for v in ours["violations"])]
                ), request["name"]
                verdicts.append(ours["allowed"])
            assert verdicts[-4:] == [True, False, False, False], "approved, unapproved, suspended, missing"
            assert verdicts.count(False) > 20
    finally:
        opa.server.stop()
        template.server.stop()


def run_quick(script: str, results: Path, *args: str) -> dict[str, Any]:
    """`bench/<script> --quick ARGS`; its JSON results."""
    env = os.environ | {"AIGOV_BENCH_RESULTS": str(results), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--quick", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads((results / f"{Path(script).stem}.quick.json").read_text())
    assert document["machine"]["cores"] >= 1
    assert document["machine"]["cpu"]
    assert len(document["machine"]["loadavg"]) == 3
    return document


def test_opa_floor_quick(tmp_path: Path) -> None:
    cases = run_quick("opa_floor.py", tmp_path)["results"]["cases"]
    assert set(cases) == {"allowed", "denied", "governed"}
    for case in cases.values():
        assert case["evaluation_ms"]["requests"] == 20
        assert 0 < case["evaluation_ms"]["p50"] <= case["round_trip_ms"]["p50"]


def test_python_path_quick(tmp_path: Path) -> None:
    cases = run_quick("python_path.py", tmp_path)["results"]["cases"]
    assert set(cases) == {"allowed", "denied", "governed"}
    assert all(0 < case["p50_us"] <= case["p99_us"] for case in cases.values())


def test_scale_quick(tmp_path: Path) -> None:
    results = run_quick("scale.py", tmp_path)["results"]
    assert set(results["sizes"]) == {"10", "30"}
    assert results["bound_to_one"]["bound"] == 30
    for found in (*results["sizes"].values(), results["bound_to_one"]):
        assert found["webhook_rss_mib"] > 0
        assert all(found[case]["requests"] == 20 for case in ("allowed", "denied", "governed"))


def test_scale_paired_quick(tmp_path: Path) -> None:
    env = os.environ | {"AIGOV_BENCH_RESULTS": str(tmp_path), "PYTHONPATH": str(REPO)}
    args = [sys.executable, str(REPO / "bench" / "scale.py"), "--quick", "--paired", "10,30"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "scale_paired.quick.json").read_text())["results"]
    assert results["sizes"] == [10, 30] and results["rounds"] == 2
    for case in ("allowed", "denied", "governed"):
        assert results[case]["small"]["requests"] == results[case]["large"]["requests"] == 20
        assert len(results[case]["round_p99_ratios"]) == 2 and results[case]["p99_ratio"] > 0


def test_operator_scale_quick(tmp_path: Path) -> None:
    results = run_quick("operator_scale.py", tmp_path)["results"]
    assert set(results["sizes"]) == {"10", "30"}
    for found in results["sizes"].values():
        assert found["all_phases_s"] >= 0 and found["cpu_pct"] >= 0
        assert found["rss_mib"] > 0 and found["timeline"]


def test_apiserver_quick_with_aigov_and_the_native_policy(tmp_path: Path) -> None:
    results = run_quick("apiserver_peers.py", tmp_path, "--modes", "none,aigov,vap")["results"]
    for case in results["cases"].values():
        # errors count answers other than expected: 403 for denied under aigov and the VAP, else 201
        assert {mode: s["errors"] for mode, s in case["client_ms"].items()} == {"none": 0, "aigov": 0, "vap": 0}
    assert results["cases"]["denied"]["apiserver_ms"]["aigov"]["n"] == 5
