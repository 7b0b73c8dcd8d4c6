"""`aigov check` end to end against a real OPA: the samples' documented results, formats, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aigov.cli.app import app
from aigov.policy.bundle import Bundle, read_bundle
from devkit import binaries
from devkit.devcluster import ControlPlane, OpaServer, free_port, start_opa

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
WORKLOADS = str(SAMPLES / "workloads")
RECORDS = str(SAMPLES / "records")
AIGOV = Path(sys.executable).parent / "aigov"
IN_FORCE = "2026-06-01T00:00:00Z"

runner = CliRunner()


def check(opa: OpaServer, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", "--opa-url", opa.url, *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def summary(report: list[dict[str, Any]]) -> list[tuple[str, str, bool, list[str]]]:
    return [(r["kind"], r["name"], r["allowed"], [v["code"] for v in r["violations"]]) for r in report]


def test_samples_documented_results(opa: OpaServer) -> None:
    """The results policies/README.md documents for the samples."""
    code, out, _ = check(opa, WORKLOADS, "--aisystems", RECORDS, "--now", IN_FORCE, "-o", "json")
    report = json.loads(out)
    assert summary(report) == [
        ("InferenceService", "credit-scoring", True, []),
        ("CronJob", "nightly-trust-scores", False, ["AIGOV_PROHIBITED"]),
        ("Deployment", "support-chatbot", True, []),
        ("Deployment", "shadow-llm", False, ["AIGOV_UNGOVERNED"]),
        ("Deployment", "web-frontend", True, []),
    ]
    assert code == 1
    first = report[0]
    assert set(first) >= {"apiVersion", "kind", "namespace", "name", "allowed", "violations", "warnings"}
    assert (first["apiVersion"], first["namespace"]) == ("serving.kserve.io/v1beta1", "default")
    assert first["source"].endswith("samples/workloads/credit-scoring.yaml:3")
    denied = report[3]["violations"][0]
    assert denied["control"] == "A.4.2"
    assert "aigov.io/system=<name>" in denied["message"]


def test_governed_samples_pass(opa: OpaServer) -> None:
    code, out, _ = check(
        opa,
        f"{WORKLOADS}/support-chatbot.yaml",
        f"{WORKLOADS}/credit-scoring.yaml",
        "--aisystems",
        RECORDS,
        "--now",
        IN_FORCE,
    )
    assert code == 0, out
    assert "2 workload(s): 2 allowed, 0 denied" in out


def test_systems_without_records(opa: OpaServer) -> None:
    """AISystems found among the manifests count too; from Git they carry no records yet."""
    code, out, _ = check(opa, WORKLOADS, str(SAMPLES / "minimal-chatbot.yaml"), "-o", "json", "--now", IN_FORCE)
    chatbot = next(r for r in json.loads(out) if r["name"] == "support-chatbot")
    assert [v["code"] for v in chatbot["violations"]] == [
        "AIGOV_APPROVAL_MISSING",
        "AIGOV_ASSESSMENT_MISSING",
        "AIGOV_IMAGE_NOT_APPROVED",
    ]
    assert "kubectl aigov assess support-chatbot -n default" in chatbot["violations"][1]["message"]
    assert code == 1


def test_expired_records_and_expiry_warnings(opa: OpaServer) -> None:
    credit = f"{WORKLOADS}/credit-scoring.yaml"
    code, out, _ = check(opa, credit, "--aisystems", RECORDS, "--now", "2026-07-25T00:00:00Z", "-o", "json")
    assert code == 0
    assert json.loads(out)[0]["warnings"] == [
        'AISystem "credit-scoring": approval by frida expires 2026-08-01; '
        "renew: kubectl aigov approve credit-scoring -n default",
        'AISystem "credit-scoring": approval by gustav expires 2026-08-01; '
        "renew: kubectl aigov approve credit-scoring -n default",
    ]
    code, out, _ = check(opa, credit, "--aisystems", RECORDS, "--now", "2026-09-01T00:00:00Z", "-o", "json")
    assert code == 1
    assert summary(json.loads(out))[0][3] == ["AIGOV_APPROVAL_EXPIRED", "AIGOV_IMAGE_NOT_APPROVED"]


def test_warn_namespace_allows_with_warnings(opa: OpaServer) -> None:
    args = [WORKLOADS, "--aisystems", RECORDS, "--now", IN_FORCE, "--namespace-labels", "aigov.io/enforcement=warn"]
    code, out, _ = check(opa, *args, "-o", "json")
    assert code == 0
    shadow = next(r for r in json.loads(out) if r["name"] == "shadow-llm")
    assert shadow["allowed"]
    assert shadow["warnings"][0].startswith("AIGOV_UNGOVERNED: deployments/shadow-llm is an AI workload")


def test_stdin_and_namespace(opa: OpaServer) -> None:
    manifest = (SAMPLES / "workloads" / "ungoverned-vllm.yaml").read_text()
    code, out, _ = check(opa, "-", "-n", "team-a", "-o", "json", stdin=manifest)
    assert code == 1
    assert [(r["namespace"], r["source"]) for r in json.loads(out)] == [("team-a", "<stdin>:3")]


def test_text_report(opa: OpaServer) -> None:
    _, out, _ = check(opa, WORKLOADS, "--aisystems", RECORDS, "--now", IN_FORCE)
    lines = out.splitlines()
    assert lines[0].startswith("ALLOWED          InferenceService default/credit-scoring  (")
    assert any(line.startswith("DENIED           Deployment default/shadow-llm") for line in lines)
    assert any(line.startswith("  AIGOV_UNGOVERNED [A.4.2] deployments/shadow-llm") for line in lines)
    assert lines[-1] == "5 workload(s): 3 allowed, 2 denied; 1 other object(s) not reviewed"


def test_junit_report(opa: OpaServer) -> None:
    code, out, _ = check(opa, WORKLOADS, "--aisystems", RECORDS, "--now", IN_FORCE, "-o", "junit")
    assert code == 1
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "0")
    failed = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    shadow = failed["shadow-llm"]
    assert shadow is not None
    assert shadow.get("message") == "AIGOV_UNGOVERNED"
    assert failed["support-chatbot"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "tomorrow"], "--now: 'tomorrow' is not an RFC 3339 time"),
        (["--now", "2026-01-01T00:00:00"], "has no time zone"),
        (["--namespace-labels", "oops"], "'oops' is not key=value"),
        (["--aisystems", WORKLOADS], "--aisystems: no AISystem objects"),
        (["--config", "/nonexistent/aigov.yaml"], "cannot read configuration"),
        (["missing.yaml"], "missing.yaml: no such file or directory"),
    ],
)
def test_bad_usage_exits_2(opa: OpaServer, args: list[str], message: str) -> None:
    code, _, err = check(opa, *([] if "missing.yaml" in args else [WORKLOADS]), *args)
    assert code == 2
    assert message in err


def test_bad_yaml_exits_2_with_file_and_line(opa: OpaServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {a: b\n")
    code, out, err = check(opa, str(bad))
    assert code == 2
    assert err.startswith(f"aigov check: {bad}:6:1: invalid YAML")
    assert "Traceback" not in err + out
    assert out == ""


def test_opa_unreachable_exits_3() -> None:
    result = runner.invoke(app, ["check", "--opa-url", f"http://127.0.0.1:{free_port()}", WORKLOADS])
    assert result.exit_code == 3
    assert "OPA unavailable" in result.stderr


def test_opa_with_another_bundle_exits_3(tmp_path: Path) -> None:
    server = start_opa(tmp_path, bundle=Bundle(read_bundle().modules, "0" * 64))
    try:
        result = runner.invoke(app, ["check", "--opa-url", server.url, WORKLOADS])
    finally:
        server.server.stop()
    assert result.exit_code == 3
    assert f"holds {'0' * 64}, not the policy bundle this aigov ships" in result.stderr
    assert "python -m aigov.policy.bundle --out DIR" in result.stderr


def test_starts_its_own_opa() -> None:
    """Without --opa-url: a local OPA for the run, stopped after (the real console script, as CI runs it)."""
    opa = str(binaries.find("opa"))
    result = subprocess.run(
        [str(AIGOV), "check", WORKLOADS, "--aisystems", RECORDS, "--now", IN_FORCE, "-o", "json", "--opa-binary", opa],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert [r["allowed"] for r in json.loads(result.stdout)] == [True, False, True, False, True]


def test_its_own_opa_holds_the_given_configuration(opa: OpaServer, tmp_path: Path) -> None:
    """--config reaches the policies as bundle data: the local OPA is started with it, and an OPA holding
    another configuration (the shared one, built-in) is refused rather than judging with the wrong one."""
    config = tmp_path / "aigov.yaml"
    config.write_text("defaultEnforcement: warn\n")
    own = [WORKLOADS, "--aisystems", RECORDS, "--now", IN_FORCE, "-o", "json", "--config", str(config)]
    result = subprocess.run(
        [str(AIGOV), "check", *own, "--opa-binary", str(binaries.find("opa"))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    decisions = json.loads(result.stdout)
    assert [r["allowed"] for r in decisions] == [True] * 5
    assert {r["mode"] for r in decisions} == {"warn"}
    code, _, err = check(opa, *own)
    assert code == 3
    assert "not the policy bundle this aigov ships" in err
    assert "--config FILE" in err


def test_cluster_aisystems(opa: OpaServer, aigov_crds: ControlPlane, namespace: str) -> None:
    aigov_crds.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "minimal-chatbot.yaml"))
    cluster = ["--cluster", "--kubeconfig", str(aigov_crds.kubeconfig)]
    code, out, err = check(opa, f"{WORKLOADS}/support-chatbot.yaml", *cluster, "-n", namespace, "-o", "json")
    assert code == 1, err
    assert summary(json.loads(out))[0][3] == [
        "AIGOV_APPROVAL_MISSING",
        "AIGOV_ASSESSMENT_MISSING",
        "AIGOV_IMAGE_NOT_APPROVED",
    ]
    elsewhere = f"{namespace}-x"
    code, out, _ = check(opa, f"{WORKLOADS}/support-chatbot.yaml", *cluster, "-n", elsewhere, "-o", "json")
    assert summary(json.loads(out))[0][3] == ["AIGOV_SYSTEM_NOT_FOUND"]


def test_cluster_unreachable_exits_2(opa: OpaServer, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        f"clusters: [{{name: gone, cluster: {{server: 'http://127.0.0.1:{free_port()}'}}}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: nobody}}]\nusers: [{name: nobody, user: {}}]\n"
    )
    code, _, err = check(opa, WORKLOADS, "--cluster", "--kubeconfig", str(kubeconfig))
    assert code == 2
    assert "--cluster: cannot read AISystems" in err


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["EMPTY_DIR"], None),
        (["EMPTY_FILE"], None),
        (["-"], ""),
        ([str(RECORDS)], None),
    ],
    ids=["empty-directory", "empty-file", "empty-stdin", "only-aisystems"],
)
def test_no_workload_fails_unless_allowed(opa: OpaServer, tmp_path: Path, args: list[str], stdin: str | None) -> None:
    """A failed `helm template` piped in (or an empty directory) must not pass."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.yaml").write_text("")
    paths = [{"EMPTY_DIR": str(tmp_path / "empty"), "EMPTY_FILE": str(tmp_path / "empty.yaml")}.get(a, a) for a in args]
    code, out, err = check(opa, *paths, stdin=stdin)
    assert code == 2
    assert "no workload found" in err
    assert "--allow-empty" in err
    assert out == ""
    code, out, _ = check(opa, *paths, "--allow-empty", stdin=stdin)
    assert code == 0
    assert out.startswith("0 workload(s)")


def test_gitops_directory_skips_what_is_not_kubernetes(opa: OpaServer, tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()
    shutil.copy(SAMPLES / "workloads" / "ungoverned-vllm.yaml", tmp_path / "apps")
    (tmp_path / "values-prod.yaml").write_text("replicaCount: 3\n")
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [apps]\n"
    )
    shutil.copytree(REPO / "charts" / "aigov", tmp_path / "charts" / "aigov")
    code, out, err = check(opa, str(tmp_path), "-o", "json")
    assert code == 1, err
    assert [r["name"] for r in json.loads(out)] == ["shadow-llm"]
    assert err.splitlines() == [
        f"aigov check: {tmp_path}/charts/aigov: skipped, a Helm chart's source: "
        "check its output (helm template ... | aigov check -)",
        f"aigov check: {tmp_path}/kustomization.yaml: skipped, not Kubernetes objects "
        "(kustomize's Kustomization: check its output (kustomize build ... | aigov check -))",
        f"aigov check: {tmp_path}/values-prod.yaml: skipped, not Kubernetes objects (no apiVersion and kind)",
    ]
    code, _, err = check(
        opa, str(tmp_path), "--exclude", "charts/*", "--exclude", "values-*", "--exclude", "kust*", "--strict"
    )
    assert code == 1, err
    assert err == ""
    code, _, err = check(opa, str(tmp_path), "--strict")
    assert code == 2
    assert "(--strict)" in err


def test_sarif_and_github_name_the_file_and_line(opa: OpaServer) -> None:
    shadow = f"{WORKLOADS}/ungoverned-vllm.yaml"
    _, out, _ = check(opa, shadow, "-o", "sarif")
    location = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": shadow}, "region": {"startLine": 3}}
    code, out, _ = check(opa, shadow, "-o", "github")
    assert code == 1
    assert out.startswith(f"::error file={shadow},line=3,title=AIGOV_UNGOVERNED (A.4.2)::Deployment default/shadow-llm")


def test_invalid_kubeconfig_is_a_message(opa: OpaServer, tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nclusters: [\n  - bad: {\n")
    code, _, err = check(opa, WORKLOADS, "--cluster", "--kubeconfig", str(bad))
    assert code == 2
    assert f"kubeconfig {bad} cannot be read as YAML" in err
    code, _, err = check(opa, WORKLOADS, "--cluster", "--kubeconfig", str(tmp_path / "missing"))
    assert code == 2
    assert f"kubeconfig {tmp_path / 'missing'} does not exist" in err
