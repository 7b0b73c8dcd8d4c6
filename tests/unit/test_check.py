"""The pure parts of `aigov check`: option parsing, exit codes, reports."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from aigov.cli.check import CheckError, aisystem_index, exit_code, is_workload, parse_labels, parse_now
from aigov.cli.check_report import Result, junit, render
from aigov.cli.manifests import Manifest
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
    render("json", [WARNED], 0, out)
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
    render("text", [WARNED, DENIED], 2, out)
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
