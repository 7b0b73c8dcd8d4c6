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
from aigov.core.config import Config
from aigov.core.controls import CONTROLS, OBJECTIVES
from aigov.core.model import AISystem, rfc3339
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


def _system(obj: Mapping[str, Any], collected: Collected, config: Config) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    claims = _claims(obj)
    workloads = [
        w for w in collected.workloads if w["namespace"] == meta.get("namespace") and w["system"] == meta.get("name")
    ]
    return {
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "generation": meta.get("generation"),
        "createdAt": meta.get("creationTimestamp"),
        "riskTier": (obj.get("spec") or {}).get("riskTier"),
        "lifecycleStage": ((obj.get("spec") or {}).get("lifecycle") or {}).get("stage"),
        "phase": status.get("phase"),
        "governance": summary(obj, config, collected.generated_at),
        "assessment": status.get("impactAssessment"),
        "approvals": status.get("approvals") or [],
        "suspension": status.get("suspension"),
        "suspensionHistory": status.get("suspensionHistory") or [],
        "boundWorkloads": status.get("boundWorkloads") or [],
        "labelledWorkloads": workloads,
        "controls": [
            {
                "id": c.id.value,
                "title": c.title,
                "status": claims[c.id.value]["status"],
                "evidence": claims[c.id.value].get("evidence"),
                "aigov": c.aigov_role,
            }
            for c in CONTROLS
            if c.id.value in claims
        ],
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
        record = system.status.impact_assessment
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


def evidence_document(collected: Collected, config: Config, expiring_within: timedelta) -> dict[str, Any]:
    """The whole evidence document (what `evidence.json` holds)."""
    admissions = collected.admissions
    return {
        "schema": SCHEMA,
        "generatedAt": rfc3339(collected.generated_at),
        "generator": {"name": "aigov", "version": __version__},
        "cluster": {"server": collected.server},
        "scope": {"namespaces": list(collected.namespaces) if collected.namespaces is not None else None},
        "period": {"start": rfc3339(collected.period_start), "end": rfc3339(collected.generated_at)},
        "policyBundle": dict(collected.policy_bundle),
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
        "systems": [_system(obj, collected, config) for obj in collected.systems],
        "exceptions": exceptions_section(collected, config),
        "warnings": list(collected.warnings),
    }


def soa_csv(document: Mapping[str, Any]) -> str:
    """The Statement of Applicability: one row per Annex A control, one column per system."""
    systems = document["systems"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["control", "objective", "title", "aigov", "automation", *(f"{s['namespace']}/{s['name']}" for s in systems)]
    )
    status_of = [{c["id"]: c["status"] for c in s["controls"]} for s in systems]
    for control in document["controls"]:
        cells = [claims.get(control["id"], NOT_ADDRESSED) for claims in status_of]
        writer.writerow(
            [control["id"], control["objective"], control["title"], control["aigov"], control["automation"], *cells]
        )
    return out.getvalue()
