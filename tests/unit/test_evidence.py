"""The evidence pack's pure parts: trimming, the document, the SoA, charts, the report and the manifest."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aigov.core.archive import new_entries
from aigov.core.config import Config
from aigov.core.controls import CONTROLS
from aigov.core.model import rfc3339
from aigov.evidence.charts import color_map, nice_step, stacked_bars, stacked_columns, svg
from aigov.evidence.collected import (
    Admissions,
    CheckSeries,
    CodeSeries,
    Collected,
    DecisionCount,
    aisystem_record,
    event_record,
    not_ai_record,
    workload_record,
)
from aigov.evidence.document import evidence_document, soa_csv
from aigov.evidence.pack import render, verify, write
from aigov.evidence.report import fetching_tags, render_report

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script><img src=x onerror=1>'


def _system(name: str, **status: Any) -> dict[str, Any]:
    return aisystem_record(
        {
            "apiVersion": "aigov.io/v1alpha1",
            "kind": "AISystem",
            "metadata": {
                "name": name,
                "namespace": "team",
                "uid": f"uid-{name}",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "managedFields": [{"manager": "kubectl"}],
            },
            "spec": {
                "purpose": EVIL,
                "riskTier": "high",
                "owner": {"name": "Team"},
                "controls": [{"id": "A.5.2", "status": "implemented"}, {"id": "A.7.4", "status": "partial"}],
            },
            "status": status,
        }
    )


def _collected(admissions: Admissions | None = None) -> Collected:
    approvals = [
        {"approver": "alice", "role": "risk-officer", "decision": "approved", "decidedAt": "2026-05-01T00:00:00Z",
         "expiresAt": "2026-06-10T00:00:00Z"},
        {"approver": "bob", "decision": "approved", "decidedAt": "2026-05-01T00:00:00Z",
         "expiresAt": "2026-05-20T00:00:00Z"},
    ]  # fmt: skip
    assessment = {"status": "completed", "assessor": "carol", "completedAt": "2026-01-01T00:00:00Z",
                  "expiresAt": "2027-01-01T00:00:00Z", "reference": "https://docs/fria"}  # fmt: skip
    suspension = {"active": True, "since": "2026-05-30T00:00:00Z", "reason": EVIL, "suspendedBy": "dave"}
    return Collected(
        generated_at=NOW,
        period_start=NOW - timedelta(days=1),
        server="https://127.0.0.1:6443",
        namespaces=("team",),
        systems=(
            _system(
                "scoring", phase="Suspended", impactAssessment=assessment, approvals=approvals, suspension=suspension
            ),
            _system("triage"),
        ),
        events={"uid-scoring": ({"time": "2026-05-30T00:00:01Z", "type": "Warning", "reason": "Suspended"},)},
        workloads=(),
        policy_bundle={"version": "0.1.0", "sha256": "ab" * 32},
        admissions=admissions,
        warnings=("events (/api/v1/namespaces/team/events): not collected (Forbidden: no)",),
    )


def test_aisystem_record_drops_annotations_and_managed_fields() -> None:
    meta = _system("x")["metadata"]
    assert meta == {"name": "x", "namespace": "team", "uid": "uid-x"}


def test_workload_record_keeps_no_environment() -> None:
    container = {
        "name": "c",
        "image": "vllm/vllm-openai:v1",
        "env": [{"name": "TOKEN", "value": "secret"}],
        "args": ["--key=secret"],
        "resources": {"limits": {"nvidia.com/gpu": "2", "nvidia.com/mig-1g.5gb": 1, "cpu": "4"}},
    }
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "team", "labels": {"aigov.io/system": "scoring"}},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [container]}}}}},
    }
    record = workload_record(cron, Config())
    assert record == {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "namespace": "team",
        "name": "nightly",
        "system": "scoring",
        "images": ["vllm/vllm-openai:v1"],
        "replicas": None,
        "accelerators": {"nvidia.com/gpu": 2, "nvidia.com/mig-1g.5gb": 1},
    }
    assert "secret" not in json.dumps(record)


def test_not_ai_declarations_are_recorded_with_their_reason() -> None:
    def deployment(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
        meta = {"name": "burn-in", "namespace": "ml", "labels": labels, "annotations": annotations}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta}

    declared = deployment({"aigov.io/not-ai": "true"}, {"aigov.io/not-ai-reason": " GPU burn-in, no model "})
    record = not_ai_record(declared, Config())
    assert record == {
        "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "ml", "name": "burn-in",
        "reason": "GPU burn-in, no model",
    }  # fmt: skip
    assert (not_ai_record(deployment({"aigov.io/not-ai": "true"}, {}), Config()) or {}).get("reason") == ""
    assert not_ai_record(deployment({"aigov.io/not-ai": "false"}, {}), Config()) is None
    assert record is not None
    collected = dataclasses.replace(_collected(), not_ai=(record,))
    document = evidence_document(collected, Config(), timedelta(days=30))
    assert document["notAiDeclarations"][0]["reason"] == "GPU burn-in, no model"
    html = render_report(document)
    assert '<section id="not-ai">' in html
    assert "Deployment ml/burn-in" in html


def test_event_record() -> None:
    event = {"type": "Normal", "reason": "Approved", "message": "m", "count": 2,
             "lastTimestamp": "2026-01-01T00:00:00Z", "source": {"component": "aigov-operator"},
             "metadata": {"managedFields": []}}  # fmt: skip
    assert event_record(event) == {
        "time": "2026-01-01T00:00:00Z",
        "type": "Normal",
        "reason": "Approved",
        "message": "m",
        "count": 2,
        "source": "aigov-operator",
    }


def test_document_systems_controls_and_expiring() -> None:
    document = evidence_document(_collected(), Config(), timedelta(days=30))
    assert document["scope"] == {"namespaces": ["team"]}
    assert document["period"] == {"start": "2026-05-31T12:00:00Z", "end": "2026-06-01T12:00:00Z"}
    assert document["admissionDecisions"] is None
    assert len(document["controls"]) == 38
    scoring = document["systems"][0]
    # A person's claims (spec.controls) stand; aigov credits what it enforced or recorded for this system, and
    # says so: the gate is in place but the approvals do not yet suffice, so A.10.3 is only partial.
    assert [(c["id"], c["status"], c["aigov"], c["by"]) for c in scoring["controls"]] == [
        ("A.3.2", "partial", "evidenced", "aigov"),
        ("A.5.2", "implemented", "enforced", "spec.controls"),
        ("A.6.2.5", "implemented", "enforced", "aigov"),
        ("A.6.2.8", "implemented", "evidenced", "aigov"),
        ("A.7.4", "partial", "people", "spec.controls"),
        ("A.8.4", "implemented", "evidenced", "aigov"),
        ("A.9.4", "implemented", "enforced", "aigov"),
        ("A.10.3", "partial", "enforced", "aigov"),
    ]
    assert scoring["events"][0]["reason"] == "Suspended"
    assert document["expiring"] == [
        {"system": "team/scoring", "record": "approval", "by": "bob", "expiresAt": "2026-05-20T00:00:00Z",
         "expired": True},
        {"system": "team/scoring", "record": "approval (risk-officer)", "by": "alice",
         "expiresAt": "2026-06-10T00:00:00Z", "expired": False},
    ]  # fmt: skip


ORGANISATION = ["applicability", "justification", "status", "owner", "evidence"]
MANAGEMENT_SYSTEM = {
    "apiVersion": "aigov.io/v1alpha1",
    "kind": "AIManagementSystem",
    "metadata": {"name": "acme", "generation": 3},
    "spec": {
        "version": "2026.2",
        "scope": {"description": "AI systems on the platform", "namespaces": ["team"]},
        "policy": {"reference": "https://intranet/ai-policy.pdf", "version": "4"},
        "roles": [{"name": "AI governance lead", "holder": "Dana"}],
        "objectives": [{"name": "governed", "statement": "every AI workload governed", "kpi": "coverage",
                        "target": "100%"}],
        "statementOfApplicability": [
            {"id": "A.2.2", "applicable": True, "justification": "policy required", "status": "implemented",
             "owner": "Dana", "evidence": "https://intranet/ai-policy.pdf"},
            {"id": "A.10.4", "applicable": False, "justification": "no customers", "status": "notApplicable",
             "owner": "Dana"},
        ],
    },
    "status": {"approvals": [
        {"approver": "erin", "version": "2026.1", "generation": 2, "decidedAt": "2026-01-01T00:00:00Z"},
        {"approver": "frank", "version": "2026.2", "generation": 3, "decidedAt": "2026-05-01T00:00:00Z"},
    ]},
}  # fmt: skip


def test_statement_of_applicability() -> None:
    document = evidence_document(_collected(), Config(), timedelta(days=30))
    rows = list(csv.reader(io.StringIO(soa_csv(document))))
    assert rows[0] == ["control", "objective", "title", "aigov", "automation", *ORGANISATION, "team/scoring",
                       "team/triage"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == [c.id.value for c in CONTROLS]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["A.5.2"][3:5] == [
        "enforced",
        "deployment requires a completed assessment and, where the tier requires it, the classification record",
    ]
    assert by_id["A.5.2"][5:] == ["", "", "notAddressed", "", "", "implemented", "implemented"]
    assert by_id["A.7.4"][10:] == ["partial", "partial"]
    assert by_id["A.2.2"][10:] == ["notAddressed", "notAddressed"]


def test_organisation_statement_of_applicability_and_approval() -> None:
    collected = replace(_collected(), management_system=aisystem_record(MANAGEMENT_SYSTEM))
    document = evidence_document(collected, Config(), timedelta(days=30))
    ms = document["managementSystem"]
    assert (ms["name"], ms["version"], ms["currentApproval"]["approver"]) == ("acme", "2026.2", "frank")
    by_id = {r[0]: r for r in csv.reader(io.StringIO(soa_csv(document)))}
    assert by_id["A.2.2"][5:10] == ["applicable", "policy required", "implemented", "Dana",
                                    "https://intranet/ai-policy.pdf"]  # fmt: skip
    assert by_id["A.10.4"][5:10] == ["excluded", "no customers", "notApplicable", "Dana", ""]
    html = render_report(document)
    assert "AI governance lead" in html and "approved" in html and "frank" in html
    # A new revision is not approved until someone approves its generation.
    newer = {**MANAGEMENT_SYSTEM, "metadata": {"name": "acme", "generation": 4}}
    unapproved = evidence_document(replace(collected, management_system=newer), Config(), timedelta(days=30))
    assert unapproved["managementSystem"]["currentApproval"] is None
    assert "not approved" in render_report(unapproved)
    assert "No AIManagementSystem is installed" in render_report(evidence_document(_collected(), Config(),
                                                                                   timedelta(days=30)))  # fmt: skip


@pytest.mark.parametrize(("maximum", "step"), [(0, 1), (3, 1), (9, 5), (10, 5), (38, 10), (1234, 500)])
def test_nice_step(maximum: float, step: float) -> None:
    assert nice_step(maximum) == step


def test_color_map_keeps_fixed_colours_and_never_reuses_them() -> None:
    colors = color_map(["a", "b", "c"], {"b": "#2563eb"})
    assert colors["b"] == "#2563eb"
    assert "#2563eb" not in (colors["a"], colors["c"])


def test_charts_escape_and_scale() -> None:
    bars = svg(stacked_bars(EVIL, [(EVIL, {"x": 2, "y": 1})], {"x": "#111111", "y": "#222222"}))
    assert "<script>" not in bars
    assert bars.startswith("<svg viewBox=")
    columns = svg(stacked_columns("t", [("09:00", {"a": 0}), ("10:00", {"a": 7})], {"a": "#111111"}))
    assert columns.count("<rect") == 2  # one bar (zero is not drawn) and one legend swatch


def test_report_escapes_everything_and_fetches_nothing() -> None:
    series = CodeSeries("AIGOV_UNGOVERNED", ((NOW - timedelta(hours=1), 3.0),))
    admissions = Admissions("http://prom", 3600, (DecisionCount("denied", "AIGOV_UNGOVERNED", 3),), (series,))
    html = render_report(evidence_document(_collected(admissions), Config(), timedelta(days=30)))
    assert "&lt;script&gt;" in html
    assert fetching_tags(html) == []
    assert "Content-Security-Policy" in html
    sections = ("summary", "inventory", "expiring", "suspensions", "denials", "controls", "systems", "classification",
                "not-ai", "about")  # fmt: skip
    for section in sections:
        assert f'<section id="{section}">' in html
    assert html.count("<svg") == 3
    assert "not collected (Forbidden: no)" in html


def _hostile(field: str) -> str:
    return f'<script>{field}</script>"onload={field} </style>'


def test_report_escapes_every_user_controlled_field() -> None:
    """Hostile text in any field people or workloads control is shown escaped, never as markup."""
    fields = ("name", "namespace", "owner", "purpose", "reason", "suspendedBy", "resumedBy", "justification",
              "approver", "assessor", "reference", "image", "rationale", "disclosure", "model",
              "registration")  # fmt: skip
    h = {field: _hostile(field) for field in fields}
    history = {"active": False, "since": "2026-05-01T00:00:00Z", "reason": h["reason"],
               "suspendedBy": h["suspendedBy"], "resumedAt": "2026-05-02T00:00:00Z", "resumedBy": h["resumedBy"],
               "justification": h["justification"]}  # fmt: skip
    obj = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": h["name"], "namespace": h["namespace"], "uid": "uid-hostile"},
        "spec": {
            "purpose": h["purpose"], "riskTier": "high", "owner": {"name": h["owner"]},
            "classification": {"roles": ["provider"], "rationale": h["rationale"],
                               "transparencyDisclosureRef": h["disclosure"], "generalPurposeModel": h["model"],
                               "euDatabaseId": h["registration"]},
        },
        "status": {
            "phase": "Approved",
            "impactAssessment": {"status": "completed", "assessor": h["assessor"], "reference": h["reference"],
                                 "completedAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-06-05T00:00:00Z"},
            "approvals": [{"approver": h["approver"], "decision": "approved", "decidedAt": "2026-05-01T00:00:00Z",
                           "expiresAt": "2026-06-10T00:00:00Z"}],
            "suspensionHistory": [history],
        },
    }  # fmt: skip
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": h["namespace"], "labels": {"aigov.io/system": h["name"]}},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": h["image"]}]}}},
    }
    collected = replace(
        _collected(),
        namespaces=(h["namespace"],),
        systems=(aisystem_record(obj),),
        workloads=(workload_record(deployment, Config()),),
    )
    document = evidence_document(collected, Config(), timedelta(days=30))
    assert document["systems"][0]["labelledWorkloads"][0]["images"] == [h["image"]]
    assert document["systems"][0]["labelledWorkloads"][0]["imageDigests"] == [{"image": h["image"], "digest": None}]
    assert document["systems"][0]["classification"]["euDatabaseId"] == h["registration"]
    credited = {c["id"]: c for c in document["systems"][0]["controls"]}
    assert credited["A.8.5"]["evidence"] == f"registered in the EU database as {h['registration']} (Art. 49)"
    html = render_report(document)

    assert fetching_tags(html) == []
    assert "<script" not in html
    assert html.count("</style>") == 1
    assert '"onload' not in html
    shown = set(fields) - {"purpose", "image"}  # those two are in evidence.json only
    for field in shown:
        assert f"&lt;script&gt;{field}&lt;/script&gt;&#34;onload={field} &lt;/style&gt;" in html, field


def test_pack_manifest_and_verify(tmp_path: Path) -> None:
    files = render(_collected(), Config(), timedelta(days=30))
    assert sorted(files) == ["evidence.json", "manifest.json", "report.html", "soa.csv"]
    write(files, tmp_path)
    assert verify(tmp_path) == []
    (tmp_path / "report.html").write_text("changed")
    (tmp_path / "evidence.json").unlink()
    assert verify(tmp_path) == ["evidence.json: missing", "report.html: sha256 differs from the manifest"]
    (tmp_path / "manifest.json").write_text("{")
    assert verify(tmp_path)[0].startswith("manifest.json: cannot be read")


def _exception(name: str, created: str, expires: str, records: list[dict[str, str]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "team", "creationTimestamp": created},
        "spec": {"system": "scoring", "codes": ["AIGOV_APPROVAL_MISSING"], "justification": "pilot",
                 "ticket": "CHG-1", "requestedBy": "dave", "expiresAt": expires, **spec},
        "status": {"records": records},
    }  # fmt: skip


def test_exceptions_in_the_period_with_who_requested_approved_and_waived() -> None:
    approved = [{"action": "approved", "by": "alice", "at": "2026-05-31T13:00:00Z"}]
    collected = replace(
        _collected(),
        exceptions=(
            _exception("pilot", "2026-05-31T12:00:00Z", "2026-06-05T00:00:00Z", approved),
            _exception("incident", "2026-06-01T08:00:00Z", "2026-06-01T10:00:00Z", [], breakGlass=True),
            _exception("old", "2026-05-01T00:00:00Z", "2026-05-31T11:59:59Z", approved),
            _exception("later", "2026-06-01T12:00:01Z", "2026-06-02T00:00:00Z", approved),
        ),
    )
    rows = evidence_document(collected, Config(), timedelta(days=30))["exceptions"]
    assert [(r["name"], r["state"], r["approvedBy"], r["reviewPending"]) for r in rows] == [
        ("incident", "Expired", None, True),
        ("pilot", "Approved", "alice", False),
    ]
    assert rows[1]["codes"] == ["AIGOV_APPROVAL_MISSING"] and rows[1]["requestedBy"] == "dave"


def test_monitoring_coverage_breaches_and_completeness() -> None:
    t = [NOW - timedelta(minutes=m) for m in (40, 30, 20, 10, 0)]
    series = CheckSeries("team", "scoring", "psi", 600, tuple(zip(t, (0.1, 0.3, 0.1, 0.4, 0.5), strict=True)),
                         tuple(zip(t, (0.0, 1.0, 0.0, 1.0, 1.0), strict=True)))  # fmt: skip
    scoring = _system("scoring")
    scoring["spec"]["monitoring"] = {"checks": [{"name": "psi", "query": "psi", "comparator": ">", "threshold": 0.25}]}
    workloads = tuple(
        {"namespace": "team", "system": system, "replicas": replicas, "kind": "Deployment", "name": f"{system}-{n}"}
        for n, (system, replicas) in enumerate((("scoring", 2), ("triage", 1), ("scoring", 0)))
    )
    ungoverned = ({"namespace": "team", "name": "shadow", "aisystem": ""},)
    collected = replace(_collected(), systems=(scoring, _system("triage")), workloads=workloads, ungoverned=ungoverned,
                        monitoring=(series,))  # fmt: skip
    document = evidence_document(collected, Config(), timedelta(days=30))
    coverage = document["monitoring"]["coverage"]
    # Running: scoring-0 (checked), triage-1 (no check), the shadow workload; scoring-2 is scaled to zero.
    assert (coverage["runningAIWorkloads"], coverage["underACheck"], coverage["share"]) == (3, 1, 0.3333)
    [check] = document["monitoring"]["checks"]
    assert (check["breaches"], check["breachedShare"], check["min"], check["max"], check["last"]) == (
        2, 0.6, 0.1, 0.5, 0.5,
    )  # fmt: skip
    assert check["values"][0] == ["2026-06-01T11:20:00Z", 0.1]
    gaps = {g["part"] for g in document["completeness"]["missing"]}
    assert gaps == {"admissionDecisions", "decisionLog", "managementSystem", "identity", "collection"}
    html = render_report(document)
    assert "Incomplete evidence" in html and "Admission decisions are missing" in html
    assert "33.3%" in html

    bare = evidence_document(replace(collected, monitoring=None), Config(), timedelta(days=30))
    assert bare["monitoring"]["checks"] is None
    assert "monitoring" in {g["part"] for g in bare["completeness"]["missing"]}
    assert "drift-check values and breaches over the period are missing" in render_report(bare)


def test_management_review_objectives_trends_and_actions() -> None:
    ms = json.loads(json.dumps(MANAGEMENT_SYSTEM))
    ms["spec"]["objectives"] = [
        {"name": "approved", "statement": "s", "kpi": "approved share", "target": ">= 50%",
         "measure": {"kpi": "approvedShare", "comparator": ">=", "value": 0.5}},
        {"name": "no overdue", "statement": "s", "kpi": "overdue", "target": "0",
         "measure": {"kpi": "overdueNonconformities", "comparator": "<=", "value": 0}},
        {"name": "culture", "statement": "s", "kpi": "survey", "target": "good"},
    ]  # fmt: skip
    nc = {"metadata": {"namespace": "team", "name": "nc-1"},
          "spec": {"system": "scoring", "source": "suspension", "openedAt": "2026-05-01T00:00:00Z",
                   "dueAt": "2026-05-16T00:00:00Z", "summary": "s"}}  # fmt: skip
    before = evidence_document(replace(_collected(), nonconformities=(nc,)), Config(), timedelta(days=30))
    now = evidence_document(
        replace(_collected(), management_system=aisystem_record(ms), systems=_collected().systems[:1],
                previous_document=before, previous_pack={"digest": "sha256:" + "0" * 64, "generatedAt": "x"}),
        Config(), timedelta(days=30),
    )  # fmt: skip
    review = now["review"]
    assert [(o["name"], o["value"], o["met"]) for o in review["objectives"]] == [
        ("approved", 0.0, False),
        ("no overdue", 0, True),
        ("culture", None, None),
    ]
    trends = {t["kpi"]: (t["previous"], t["now"]) for t in review["trends"]}
    assert trends["aiSystems"] == (2, 1)
    assert trends["overdueNonconformities"] == (1, 0)
    assert trends["admissionsDenied"] == (None, None)
    assert review["actionsFromPreviousReview"] == [
        {"nonconformity": "team/nc-1", "then": "Open", "now": "not in this pack"}
    ]
    assert review["changes"]["systemsRemoved"] == ["team/triage"]
    html = render_report(now)
    assert "missed" in html and "not measured" in html and "team/nc-1" in html


def test_the_period_from_the_archive_with_a_tombstone() -> None:
    """Entries observed in the period are the period's records; a system deleted in it shows its whole history."""
    old, inside = rfc3339(NOW - timedelta(days=3)), rfc3339(NOW - timedelta(hours=1))
    body = {"metadata": {"name": "gone", "namespace": "team", "uid": "u-gone"}, "spec": {"purpose": "p"}}
    history = new_entries(body, [], old)
    history += new_entries({**body, "status": {"approvals": [{"approver": _hostile("by"), "decision": "approved",
                            "decidedAt": old}]}}, history, inside, deleted=True)  # fmt: skip
    live = new_entries({**body, "metadata": {**body["metadata"], "name": "live", "uid": "u-live"}}, [], old)
    long_gone = new_entries(body, [], old, deleted=True)
    collected = replace(
        _collected(),
        archives=(
            {"namespace": "team", "name": "gone", "uid": "u-gone", "entries": history},
            {"namespace": "team", "name": "live", "uid": "u-live", "entries": live},
            {"namespace": "team", "name": "older", "uid": "u-older", "entries": long_gone},
        ),
    )
    document = evidence_document(collected, Config(), timedelta(days=30))
    gone, still = document["recordArchive"]["systems"]
    assert (gone["name"], [e["kind"] for e in gone["entries"]]) == ("gone", ["spec", "approval", "deleted"])
    assert gone["deleted"]["observedAt"] == inside and gone["chainError"] is None
    assert (still["name"], still["entries"], still["entriesBefore"], still["deleted"]) == ("live", [], 1, None)
    html = render_report(document)
    assert "&lt;script&gt;by&lt;/script&gt;" in html and "<script>by" not in html


def test_workloads_are_traced_to_image_digests_and_models() -> None:
    pinned = "vllm/vllm-openai@sha256:" + "4c" * 32
    obj = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "scoring", "namespace": "team", "uid": "uid-scoring"},
        "spec": {"purpose": "p", "riskTier": "high", "images": [pinned],
                 "models": [{"name": "gbm", "version": "4", "uri": "s3://m/gbm", "digest": "sha256:" + "5e" * 32}]},
    }  # fmt: skip
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "team", "labels": {"aigov.io/system": "scoring"}},
        "spec": {
            "template": {"spec": {"containers": [{"name": "a", "image": pinned}, {"name": "b", "image": "busybox"}]}}
        },
    }
    collected = replace(
        _collected(), systems=(aisystem_record(obj),), workloads=(workload_record(deployment, Config()),)
    )
    (traced,) = evidence_document(collected, Config(), timedelta(days=30))["systems"][0]["labelledWorkloads"]
    assert traced["imageDigests"] == [
        {"image": pinned, "digest": "sha256:" + "4c" * 32},
        {"image": "busybox", "digest": None},
    ]
    assert traced["models"] == [{"name": "gbm", "version": "4", "digest": "sha256:" + "5e" * 32}]


def test_a_rejected_assessment_is_shown_as_rejected() -> None:
    rejected = {"status": "rejected", "assessor": "carol", "completedAt": "2026-05-01T00:00:00Z",
                "reference": "https://d/x", "sha256": "ab" * 32}  # fmt: skip
    collected = replace(_collected(), systems=(_system("scoring", impactAssessment=rejected),))
    html = render_report(evidence_document(collected, Config(), timedelta(days=30)))
    assert "rejected (carol)" in html
