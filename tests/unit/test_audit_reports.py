"""The audit's pure parts: report documents and their reading back, and PodSpec discovery in CRD schemas."""

from __future__ import annotations

from datetime import UTC, datetime

from aigov.audit.unreviewed import candidate, pod_spec_paths
from aigov.core import reports
from aigov.core.reports import Format, Outcome, Result, Subject, Tally
from aigov.core.workloads import Role

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SUBJECT = Subject("apps/v1", "Deployment", "ml", "llm", "uid-1")
POD_SPEC = {
    "type": "object",
    "properties": {"containers": {"type": "array", "items": {"properties": {"image": {"type": "string"}}}}},
}


def test_a_decision_becomes_fail_warn_or_pass() -> None:
    failed = reports.decision_results(SUBJECT, [("AIGOV_UNGOVERNED", "no label", "A.4.2")], [], {"mode": "warn"})
    assert [(r.outcome, r.rule, r.severity, r.properties["control"]) for r in failed] == [
        (Outcome.FAIL, "AIGOV_UNGOVERNED", "high", "A.4.2")
    ]
    warned = reports.decision_results(SUBJECT, [], ["approval expires in 3d"], {"mode": "enforce"})
    assert [(r.outcome, r.rule) for r in warned] == [(Outcome.WARN, reports.WARNING_RULE)]
    passed = reports.decision_results(SUBJECT, [], [], {})
    assert [(r.outcome, r.rule) for r in passed] == [(Outcome.PASS, reports.PASS_RULE)]


def test_a_report_is_bounded_owned_and_counts_everything() -> None:
    tally = Tally()
    for i in range(reports.MAX_RESULTS + 5):
        tally.add(Result(Subject("apps/v1", "Deployment", "ml", f"ok-{i}"), Outcome.PASS, reports.PASS_RULE, "ok"))
    tally.add(Result(SUBJECT, Outcome.FAIL, "AIGOV_UNGOVERNED", "no label"))
    tally.skip()
    doc = reports.report(Format.OPENREPORTS, "ml", "ns-uid", tally, NOW)
    assert doc["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Namespace", "name": "ml", "uid": "ns-uid"}
    ]
    assert doc["summary"] == {"pass": reports.MAX_RESULTS + 5, "fail": 1, "warn": 0, "error": 0, "skip": 1}
    assert len(doc["results"]) == reports.MAX_RESULTS
    assert doc["results"][0]["result"] == "fail"
    assert doc["results"][0]["timestamp"] == {"seconds": int(NOW.timestamp()), "nanos": 0}
    legacy = reports.report(Format.POLICYREPORT, "ml", "ns-uid", tally, NOW)
    assert (legacy["apiVersion"], legacy["kind"], "source" in legacy) == (
        "wgpolicyk8s.io/v1alpha2",
        "PolicyReport",
        False,
    )
    found = list(reports.findings([doc]))
    assert [(f.namespace, f.name, f.rule) for f in found] == [("ml", "llm", "AIGOV_UNGOVERNED")]


def test_pod_specs_are_found_in_crd_schemas() -> None:
    schema = {
        "properties": {
            "spec": {
                "properties": {
                    "template": {"properties": {"spec": POD_SPEC}},
                    "workers": {
                        "type": "array",
                        "items": {"properties": {"template": {"properties": {"spec": POD_SPEC}}}},
                    },
                    "replicas": {"type": "integer"},
                }
            }
        }
    }
    assert list(pod_spec_paths(schema)) == ["spec.template.spec", "spec.workers.*.template.spec"]
    crd = {
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "ModelPool", "plural": "modelpools"},
            "versions": [{"name": "v1", "served": True, "schema": {"openAPIV3Schema": schema}}],
        }
    }
    kind = candidate(crd, set())
    assert kind is not None and kind.role == Role.WRAPPER and kind.resource == "modelpools"
    assert candidate(crd, {("example.com", "ModelPool")}) is None
    assert candidate({"spec": {**crd["spec"], "scope": "Cluster"}}, set()) is None


def test_a_waived_code_is_a_skip_naming_the_exception_not_a_warning() -> None:
    subject = Subject("apps/v1", "Deployment", "ml", "pilot")
    warnings = ["AIGOV_APPROVAL_MISSING waived by exception pilot-ok until 2026-06-01T00:00:00Z", "other warning"]
    waived = [("AIGOV_APPROVAL_MISSING", "pilot-ok", "2026-06-01T00:00:00Z")]
    results = reports.decision_results(subject, [], warnings, {"mode": "enforce"}, waived)
    assert [(r.outcome, r.rule) for r in results] == [
        (Outcome.WARN, reports.WARNING_RULE),
        (Outcome.SKIP, "AIGOV_APPROVAL_MISSING"),
    ]
    assert results[1].properties["exception"] == "pilot-ok"
    assert "pilot-ok" in results[1].message
