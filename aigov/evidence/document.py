"""Pure: the evidence document (`evidence.json`) and the Statement of Applicability (`soa.csv`).

The HTML report is rendered from the same document, so what a reader sees and
what a machine checks never differ.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from aigov import __version__
from aigov.core import exceptions
from aigov.core.archive import tombstone, verify
from aigov.core.config import Config
from aigov.core.controls import CONTROLS, OBJECTIVES
from aigov.core.lifecycle import decisive_assessment
from aigov.core.management_system import current_approval
from aigov.core.model import AISystem, rfc3339
from aigov.core.nonconformity import overdue, phase
from aigov.core.views import summary
from aigov.evidence.collected import Collected

SCHEMA = "aigov.io/evidence/v1"
NOT_ADDRESSED = "notAddressed"
STATUSES = ("implemented", "partial", "planned", "notApplicable", NOT_ADDRESSED)


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _claims(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in (obj.get("spec") or {}).get("controls") or [] if isinstance(c, dict) and "id" in c}


AIGOV = "aigov"
"""Who made a Statement-of-Applicability entry that aigov credits from what it enforced or recorded."""


def aigov_credit(
    obj: Mapping[str, Any], governance: Mapping[str, Any], workloads: list[Any]
) -> dict[str, dict[str, str]]:
    """The controls aigov implemented for this system by itself, from its record: id -> {status, evidence}.

    Only what the record shows: an enforced control whose precondition is missing is `partial`
    (the gate is in place, the system cannot run yet), and nothing is credited that aigov did not do.
    """
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    assessment = governance.get("assessment") or {}
    docs = spec.get("documentation") or {}
    checks = (spec.get("monitoring") or {}).get("checks") or []
    assessed = assessment.get("valid") is True
    approved = governance.get("phase") == "Approved"
    done, partial = "implemented", "partial"
    credit: dict[str, tuple[str, str]] = {
        "A.6.2.5": (done, "admission webhook gates every workload of this system on its record"),
        "A.5.2": (done if assessed else partial, "workloads are admitted only with a valid completed assessment"),
        "A.9.4": (done, "intended purpose recorded (spec.purpose, required by the CRD)"),
        "A.10.3": (
            done if spec.get("images") and approved else partial,
            "only images in spec.images covered by valid approvals are admitted",
        ),
        "A.6.2.8": (done, "admission decision log and Kubernetes Events"),
        "A.8.4": (done, "Warning Events and metrics on every suspension"),
    }
    if assessment.get("reference") and assessment.get("sha256"):
        credit["A.5.3"] = (done, f"assessment {assessment['reference']} (sha256 {assessment['sha256']})")
    if checks:
        credit["A.6.2.6"] = (done, f"{len(checks)} drift check(s) with automatic suspension")
    if spec.get("owner") and status.get("approvals"):
        credit["A.3.2"] = (partial if not spec.get("accountableExecutive") else done, "owner and approvers recorded")
    if workloads or status.get("boundWorkloads"):
        credit["A.4.2"] = (done, "inventory of bound workloads and images")
        credit["A.4.4"] = (done, "model-serving runtimes recorded from the workloads' images")
        credit["A.4.5"] = (done, "accelerator requests recorded")
    if docs.get("technicalDocRef"):
        credit["A.6.2.7"] = (done, f"technical documentation {docs['technicalDocRef']}")
    if docs.get("instructionsForUseRef"):
        credit["A.8.2"] = (done, f"instructions for use {docs['instructionsForUseRef']}")
    classification = spec.get("classification") or {}
    if classification.get("euDatabaseId"):
        credit["A.8.5"] = (done, f"registered in the EU database as {classification['euDatabaseId']} (Art. 49)")
    return {cid: {"status": s, "evidence": e} for cid, (s, e) in credit.items()}


def _controls(obj: Mapping[str, Any], governance: Mapping[str, Any], workloads: list[Any]) -> list[dict[str, Any]]:
    """One SoA entry per control that a person claimed (spec.controls) or aigov credits; a person's claim wins."""
    claims = _claims(obj)
    credited = aigov_credit(obj, governance, workloads)
    entries = []
    for c in CONTROLS:
        cid = c.id.value
        if cid in claims:
            entry = {"status": claims[cid]["status"], "evidence": claims[cid].get("evidence"), "by": "spec.controls"}
        elif cid in credited:
            entry = {**credited[cid], "by": AIGOV}
        else:
            continue
        entries.append({"id": cid, "title": c.title, "aigov": c.aigov_role, **entry})
    return entries


def _traced(workload: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """A workload with each image's digest where its reference pins one, and the system's models (name, version,
    digest): what runs, traceable to what the approvals approved."""
    digests = [{"image": i, "digest": i.partition("@")[2] or None} for i in workload.get("images") or []]
    models = [{k: m.get(k) for k in ("name", "version", "digest")} for m in spec.get("models") or []]
    return {**workload, "imageDigests": digests, "models": models}


def _system(obj: Mapping[str, Any], collected: Collected, config: Config) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    workloads = [
        _traced(w, obj.get("spec") or {})
        for w in collected.workloads
        if w["namespace"] == meta.get("namespace") and w["system"] == meta.get("name")
    ]
    governance = summary(obj, config, collected.generated_at)
    return {
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "generation": meta.get("generation"),
        "createdAt": meta.get("creationTimestamp"),
        "riskTier": (obj.get("spec") or {}).get("riskTier"),
        "lifecycleStage": ((obj.get("spec") or {}).get("lifecycle") or {}).get("stage"),
        "phase": status.get("phase"),
        "classification": (obj.get("spec") or {}).get("classification"),
        "governance": governance,
        "assessment": governance["assessment"],
        "assessments": governance["assessments"],
        "approvals": status.get("approvals") or [],
        "suspension": status.get("suspension"),
        "retirement": status.get("retirement"),
        "suspensionHistory": status.get("suspensionHistory") or [],
        "boundWorkloads": status.get("boundWorkloads") or [],
        "labelledWorkloads": workloads,
        "controls": _controls(obj, governance, workloads),
        "events": list(collected.events.get(str(meta.get("uid")), ())),
        "spec": obj.get("spec") or {},
        "status": status,
    }


def expiring(collected: Collected, config: Config, within: timedelta) -> list[dict[str, Any]]:
    """Assessments and counted approvals that expired or expire within `within`, soonest first."""
    now = collected.generated_at
    rows: list[dict[str, Any]] = []
    for obj in collected.systems:
        system = AISystem.model_validate(obj)
        record = decisive_assessment(system.status)
        candidates: list[tuple[str, str, datetime | None]] = []
        if record is not None and record.status == "completed":
            candidates.append(("impact assessment", record.assessor, record.expires_at))
        view = summary(obj, config, now)
        for approval in view["approvals"]:
            if approval["decision"] == "approved" and approval.get("expiresAt"):
                role = f" ({approval['role']})" if approval.get("role") else ""
                candidates.append(
                    (f"approval{role}", approval["approver"], datetime.fromisoformat(approval["expiresAt"]))
                )
        for record_kind, who, expires in candidates:
            if expires is not None and expires <= now + within:
                rows.append(
                    {
                        "system": _key(obj),
                        "record": record_kind,
                        "by": who,
                        "expiresAt": rfc3339(expires),
                        "expired": expires <= now,
                    }
                )
    return sorted(rows, key=lambda r: r["expiresAt"])


def exceptions_section(collected: Collected, config: Config) -> list[dict[str, Any]]:
    """Every AIGovException in force at some point of the period: who requested, who approved, what it waived.

    A break-glass exception without a review by an approver is marked `reviewPending`.
    """
    policy, rows = config.exceptions, []
    for obj in collected.exceptions:
        try:
            exc = exceptions.parse(dict(obj))
        except ValidationError:
            continue
        created, until = exc.created, exceptions.effective_expiry(exc, policy)
        if created is None or until is None or created > collected.generated_at or until <= collected.period_start:
            continue
        revoked = next((r for r in exc.status.records if r.action == exceptions.ExceptionAction.REVOKED), None)
        reviewer = exceptions.reviewer(exc)
        rows.append(
            {
                "namespace": exc.metadata.namespace or "",
                "name": exc.name,
                "state": exceptions.state(exc, policy, collected.generated_at).value,
                "breakGlass": exc.spec.break_glass,
                "system": exc.spec.system,
                "selector": exc.spec.selector.match_labels if exc.spec.selector else None,
                "codes": list(exc.spec.codes),
                "justification": exc.spec.justification,
                "ticket": exc.spec.ticket,
                "requestedBy": exc.spec.requested_by,
                "createdAt": rfc3339(created),
                "expiresAt": rfc3339(until),
                "approvedBy": exceptions.approver(exc),
                "reviewedBy": reviewer,
                "reviewPending": exc.spec.break_glass and reviewer is None,
                "revokedBy": revoked.by if revoked else None,
            }
        )
    return sorted(rows, key=lambda r: (r["namespace"], r["name"]))


def management_system(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The AI management system's scope, policy, roles, objectives, SoA and approvals, and whether this revision
    is approved (an approval pinning its current generation and version)."""
    if obj is None:
        return None
    spec, meta = obj.get("spec") or {}, obj.get("metadata") or {}
    return {
        "name": meta.get("name"),
        "generation": meta.get("generation"),
        "version": spec.get("version"),
        "scope": spec.get("scope"),
        "policy": spec.get("policy"),
        "roles": spec.get("roles") or [],
        "objectives": spec.get("objectives") or [],
        "statementOfApplicability": spec.get("statementOfApplicability") or [],
        "approvals": (obj.get("status") or {}).get("approvals") or [],
        "reviews": (obj.get("status") or {}).get("reviews") or [],
        "currentApproval": current_approval(dict(obj)),
    }


def nonconformities(collected: Collected) -> list[dict[str, Any]]:
    """Every nonconformity with its phase and whether it is overdue at export time."""
    return [
        {
            "namespace": nc["metadata"].get("namespace"),
            "name": nc["metadata"].get("name"),
            **nc["spec"],
            "phase": phase(nc).value,
            "overdue": overdue(nc, collected.generated_at),
            "closure": (nc.get("status") or {}).get("closure"),
            "resumedBy": (nc.get("status") or {}).get("resumedBy"),
            "effectiveness": (nc.get("status") or {}).get("effectiveness"),
        }
        for nc in collected.nonconformities
    ]


def _rises(points: list[tuple[Any, float]]) -> int:
    """How many times a 0/1 series went from 0 (or nothing) to 1."""
    previous, count = 0.0, 0
    for _, value in points:
        count += value >= 1 > previous
        previous = value
    return count


def monitoring(collected: Collected) -> dict[str, Any]:
    """Monitoring evidence (9.1, A.6.2.6, Art. 72): coverage from the records; per drift check, from Prometheus,
    its breaches (entries into the breached state) and value series over the period."""
    checked = {
        (o["metadata"].get("namespace"), o["metadata"].get("name"))
        for o in collected.systems
        if ((o.get("spec") or {}).get("monitoring") or {}).get("checks")
    }
    running = [w for w in collected.workloads if w.get("replicas") != 0]
    ungoverned = [w for w in collected.ungoverned if not w.get("aisystem")]
    covered = sum((w["namespace"], w["system"]) in checked for w in running)
    total = len(running) + len(ungoverned)
    checks = None
    if collected.monitoring is not None:
        checks = [
            {
                "namespace": c.namespace,
                "aisystem": c.aisystem,
                "check": c.check,
                "stepSeconds": c.step_seconds,
                "breaches": _rises(list(c.breached)),
                "breachedShare": round(sum(v for _, v in c.breached) / len(c.breached), 4) if c.breached else None,
                "min": min((v for _, v in c.values), default=None),
                "max": max((v for _, v in c.values), default=None),
                "last": c.values[-1][1] if c.values else None,
                "values": [[rfc3339(t), v] for t, v in c.values],
            }
            for c in collected.monitoring
        ]
    return {
        "coverage": {
            "runningAIWorkloads": total,
            "underACheck": covered,
            "share": round(covered / total, 4) if total else None,
            "counted": "labelled workloads not scaled to zero, and the audit's ungoverned AI workloads",
        },
        "checks": checks,
    }


def kpis(document: Mapping[str, Any]) -> dict[str, float | None]:
    """The figures a management review follows from pack to pack (None when the pack lacks their source)."""
    systems = document["systems"]
    approved = sum(1 for s in systems if s["phase"] == "Approved")
    ncs = document.get("nonconformities") or []
    admissions = document.get("admissionDecisions")
    coverage = ((document.get("monitoring") or {}).get("coverage") or {}).get("share")
    return {
        "aiSystems": len(systems),
        "approvedShare": round(approved / len(systems), 4) if systems else None,
        "suspended": sum(1 for s in systems if s["phase"] == "Suspended"),
        "openNonconformities": sum(1 for n in ncs if n["phase"] != "Closed"),
        "overdueNonconformities": sum(1 for n in ncs if n["overdue"]),
        "monitoringCoverage": coverage,
        "admissionsDenied": None
        if admissions is None
        else sum(c["count"] for c in admissions["byCode"] if c["decision"] == "denied"),
    }


def review(document: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """Management review input (clause 9.3.2): KPIs against objectives, trends and open actions since the
    previous pack, and what changed in the period."""
    now = kpis(document)
    before = kpis(previous) if previous else {}
    trends = [{"kpi": k, "now": v, "previous": before.get(k)} for k, v in now.items()]
    objectives = []
    for objective in (document["managementSystem"] or {}).get("objectives") or []:
        measure = objective.get("measure")
        value = now.get(measure["kpi"]) if measure else None
        met = None
        if measure and value is not None:
            met = value >= measure["value"] if measure["comparator"] == ">=" else value <= measure["value"]
        objectives.append({"name": objective["name"], "target": objective["target"], "measure": measure,
                           "value": value, "met": met})  # fmt: skip
    current = {(n["namespace"], n["name"]): n for n in document.get("nonconformities") or []}
    actions = [
        {"nonconformity": f"{n['namespace']}/{n['name']}", "then": n["phase"],
         "now": current[key]["phase"] if (key := (n["namespace"], n["name"])) in current else "not in this pack"}
        for n in (previous or {}).get("nonconformities") or [] if n["phase"] != "Closed"
    ]  # fmt: skip
    names = {f"{s['namespace']}/{s['name']}" for s in document["systems"]}
    before_names = {f"{s['namespace']}/{s['name']}" for s in (previous or {}).get("systems") or []}
    return {
        "previousPack": document["previousPack"],
        "objectives": objectives,
        "trends": trends,
        "actionsFromPreviousReview": actions,
        "changes": {
            "systemsAdded": sorted(names - before_names) if previous else None,
            "systemsRemoved": sorted(before_names - names) if previous else None,
            "managementSystemVersion": [
                ((previous or {}).get("managementSystem") or {}).get("version"),
                (document["managementSystem"] or {}).get("version"),
            ],
        },
    }


def completeness(document: Mapping[str, Any]) -> dict[str, Any]:
    """Which parts of the evidence the pack lacks, and why: a pack with any is not complete."""
    missing = []
    if document["admissionDecisions"] is None:
        missing.append({"part": "admissionDecisions", "why": "Prometheus was not queried (--prometheus)"})
    if document["monitoring"]["checks"] is None:
        missing.append({"part": "monitoring", "why": "drift-check series need Prometheus (--prometheus)"})
    if document["decisionLog"] is None:
        missing.append({"part": "decisionLog", "why": "no decision-log files were checked (--decision-log)"})
    elif document["decisionLog"].get("problems"):
        missing.append({"part": "decisionLog", "why": "a decision-log chain is broken"})
    if document["managementSystem"] is None:
        missing.append({"part": "managementSystem", "why": "no AIManagementSystem installed or readable"})
    if document["cluster"]["uid"] is None or document["exporter"] is None:
        missing.append({"part": "identity", "why": "the cluster UID or the exporter's identity was not read"})
    if document["warnings"]:
        missing.append({"part": "collection", "why": f"{len(document['warnings'])} collection warning(s)"})
    return {"complete": not missing, "missing": missing}


def record_archive(collected: Collected) -> dict[str, Any]:
    """The period's governance records from the archive: per system, the entries the operator observed in the
    period; a system deleted in the period appears as a tombstone with its whole history."""
    start, end = collected.period_start, collected.generated_at
    systems = []
    for archived in collected.archives:
        entries = archived["entries"]
        in_period = [e for e in entries if start <= datetime.fromisoformat(str(e["observedAt"])) <= end]
        deleted = tombstone(entries)
        if not in_period and deleted is not None:
            continue  # deleted before the period: not a system of this period
        systems.append(
            {
                "namespace": archived["namespace"],
                "name": archived["name"],
                "uid": archived["uid"],
                "deleted": None if deleted is None else dict(deleted),
                "chainError": verify(entries),
                "entriesBefore": len(entries) - len(in_period),
                "entries": entries if deleted is not None else in_period,
            }
        )
    return {
        "source": "AISystemArchive objects, written by the operator at each record's observation (docs/records.md)",
        "systems": systems,
    }


def evidence_document(collected: Collected, config: Config, expiring_within: timedelta) -> dict[str, Any]:
    """The whole evidence document (what `evidence.json` holds)."""
    admissions = collected.admissions
    document = {
        "schema": SCHEMA,
        "generatedAt": rfc3339(collected.generated_at),
        "generator": {"name": "aigov", "version": __version__},
        "cluster": {"server": collected.server, "uid": collected.cluster_uid},
        "exporter": None if collected.exporter is None else dict(collected.exporter),
        "previousPack": None if collected.previous_pack is None else dict(collected.previous_pack),
        "scope": {"namespaces": list(collected.namespaces) if collected.namespaces is not None else None},
        "period": {"start": rfc3339(collected.period_start), "end": rfc3339(collected.generated_at)},
        "policyBundle": dict(collected.policy_bundle),
        "decisionLog": None if collected.decision_log is None else dict(collected.decision_log),
        "admissionDecisions": None
        if admissions is None
        else {
            "source": admissions.source,
            "stepSeconds": admissions.step_seconds,
            "byCode": [{"decision": c.decision, "code": c.code, "count": c.count} for c in admissions.counts],
            "deniedOverTime": [
                {"code": s.code, "points": [[rfc3339(t), v] for t, v in s.points]} for s in admissions.denials
            ],
        },
        "expiringWithin": f"{int(expiring_within.total_seconds() // 86400)}d",
        "expiring": expiring(collected, config, expiring_within),
        "controls": [
            {
                "id": c.id.value,
                "objective": c.objective,
                "title": c.title,
                "aigov": c.aigov_role,
                "automation": c.automation,
                "euAiAct": c.eu_ai_act,
            }
            for c in CONTROLS
        ],
        "objectives": dict(OBJECTIVES),
        "managementSystem": management_system(collected.management_system),
        "systems": [_system(obj, collected, config) for obj in collected.systems],
        "recordArchive": record_archive(collected),
        "nonconformities": nonconformities(collected),
        "monitoring": monitoring(collected),
        "ungovernedRunning": {
            "title": "AI systems running without governance",
            "source": "the aigov audit's openreports.io Reports (docs/audit.md)",
            "workloads": list(collected.ungoverned),
        },
        "notAiDeclarations": list(collected.not_ai),
        "exceptions": exceptions_section(collected, config),
        "warnings": list(collected.warnings),
    }
    document["review"] = review(document, collected.previous_document)
    return {**document, "completeness": completeness(document)}


ORGANISATION_COLUMNS = ("applicability", "justification", "status", "owner", "evidence")


def _organisation_cells(entry: Mapping[str, Any] | None) -> list[str]:
    if entry is None:
        return ["", "", NOT_ADDRESSED, "", ""]
    applicability = "applicable" if entry.get("applicable") else "excluded"
    return [applicability, *(str(entry.get(k) or "") for k in ("justification", "status", "owner", "evidence"))]


def soa_csv(document: Mapping[str, Any]) -> str:
    """The Statement of Applicability: one row per Annex A control; the organisation's columns (from the
    AIManagementSystem), then one column per system."""
    systems = document["systems"]
    organisation = {e["id"]: e for e in (document["managementSystem"] or {}).get("statementOfApplicability") or []}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "control",
            "objective",
            "title",
            "aigov",
            "automation",
            *ORGANISATION_COLUMNS,
            *(f"{s['namespace']}/{s['name']}" for s in systems),
        ]
    )
    status_of = [{c["id"]: c["status"] for c in s["controls"]} for s in systems]
    for control in document["controls"]:
        cells = [claims.get(control["id"], NOT_ADDRESSED) for claims in status_of]
        writer.writerow(
            [
                control["id"],
                control["objective"],
                control["title"],
                control["aigov"],
                control["automation"],
                *_organisation_cells(organisation.get(control["id"])),
                *cells,
            ]
        )
    return out.getvalue()
