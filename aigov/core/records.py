"""Pure builders of the governance-record writes people make through `aisystems/status`.

Each builder takes the AISystem as read (a JSON mapping), the caller's username
and the time, and returns a JSON patch (RFC 6902) for the status subresource, or
raises `RecordError` when the write makes no sense for the object as it stands.
Every patch pins `metadata.resourceVersion`, so a write built from a stale read
fails with 409 Conflict instead of losing a concurrent one (the caller re-reads
and rebuilds). Only the fields people own are touched (see
`aigov.install.admission.HUMAN_STATUS_FIELDS`); identity rules (who may
write what) are the API server's to enforce, not these builders'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aigov.core.digests import spec_hash
from aigov.core.lifecycle import counted_approvals, decisive_assessment
from aigov.core.model import (
    AISystem,
    Approval,
    ApproverDecision,
    AssessmentStatus,
    ImpactAssessment,
    ResidualRisk,
    Retirement,
    rfc3339,
)

Patch = list[dict[str, Any]]


class RecordError(Exception):
    """The record cannot be written to this AISystem as it stands; the message says why."""


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _precondition(obj: Mapping[str, Any]) -> dict[str, Any]:
    version = (obj.get("metadata") or {}).get("resourceVersion")
    if not version:
        raise RecordError("the AISystem as read has no metadata.resourceVersion")
    return {"op": "replace", "path": "/metadata/resourceVersion", "value": version}


def _set_status(obj: Mapping[str, Any], field: str, value: Any) -> dict[str, Any]:
    """An op that sets `status.<field>`, creating `status` when the object has none yet."""
    if not isinstance(obj.get("status"), Mapping):
        return {"op": "add", "path": "/status", "value": {field: value}}
    return {"op": "add", "path": _pointer("status", field), "value": value}


def _system(obj: Mapping[str, Any]) -> AISystem:
    return AISystem.model_validate(obj)


def assessment_patch(
    obj: Mapping[str, Any],
    *,
    assessor: str,
    now: datetime,
    reference: str,
    sha256: str,
    residual_risk: ResidualRisk,
    expires_in: timedelta | None,
    rejected: bool = False,
) -> Patch:
    """Append an impact assessment by `assessor`, completed or rejected at `now`, to `status.assessments`.

    Earlier entries stay; this one supersedes the assessor's own earlier ones. The record names
    the risk tier it was made for (the system's `spec.riskTier` as read): once the tier changes
    the assessment is stale and the system goes back to assessment.
    """
    if not rejected and expires_in is None:
        raise RecordError("a completed assessment needs an expiry (--expires)")
    record = ImpactAssessment(
        status=AssessmentStatus.REJECTED if rejected else AssessmentStatus.COMPLETED,
        assessor=assessor,
        completed_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
        reference=reference,
        sha256=sha256.lower(),
        residual_risk=residual_risk,
        risk_tier=_system(obj).spec.risk_tier,
    )
    return _append(obj, "assessments", record.to_dict())


def _append(obj: Mapping[str, Any], field: str, entry: dict[str, Any]) -> Patch:
    """Append `entry` to the append-only list `status.<field>`."""
    status = obj.get("status")
    if isinstance(status, Mapping) and isinstance(status.get(field), list):
        op = {"op": "add", "path": _pointer("status", field, "-"), "value": entry}
    else:
        op = _set_status(obj, field, [entry])
    return [_precondition(obj), op]


def approval_patch(
    obj: Mapping[str, Any],
    *,
    approver: str,
    now: datetime,
    role: str,
    expires_in: timedelta,
    justification: str,
) -> Patch:
    """Append an approval by `approver` of the system's current spec (its `spec_hash`, and `spec.images`)
    and of the decisive impact assessment on record (its document's sha256)."""
    system = _system(obj)
    images = system.spec.images
    assessment = decisive_assessment(system.status)
    if not images:
        raise RecordError("spec.images is empty: there is nothing to approve; list the system's images first")
    entry = Approval(
        approver=approver,
        role=role,
        decision=ApproverDecision.APPROVED,
        decided_at=now,
        expires_at=now + expires_in,
        images=list(images),
        justification=justification,
        spec_hash=spec_hash(system.spec),
        assessment_sha256=assessment.sha256 if assessment else None,
    )
    return _append(obj, "approvals", entry.to_dict())


def revocation_patch(obj: Mapping[str, Any], *, approver: str, now: datetime, justification: str) -> Patch:
    """Append a `revoked` entry withdrawing `approver`'s approval."""
    counted = counted_approvals(_system(obj).status.approvals).get(approver)
    if counted is None or counted.decision != ApproverDecision.APPROVED:
        raise RecordError(f"{approver} has no approval on record to revoke")
    entry = Approval(
        approver=approver,
        role=counted.role,
        decision=ApproverDecision.REVOKED,
        decided_at=now,
        justification=justification,
    )
    return _append(obj, "approvals", entry.to_dict())


def suspension_patch(obj: Mapping[str, Any], *, user: str, now: datetime, reason: str) -> Patch:
    """Request a manual suspension; the operator records the replicas and scales the workloads to zero."""
    current = _system(obj).status.suspension
    if current is not None and current.active:
        since = f" since {rfc3339(current.since)}" if current.since else ""
        raise RecordError(f"already suspended{since} ({current.reason or 'no reason given'})")
    fields = {"active": True, "since": rfc3339(now), "reason": reason, "suspendedBy": user}
    if current is None:
        return [_precondition(obj), _set_status(obj, "suspension", fields)]
    ops = [_precondition(obj)]
    ops += [{"op": "add", "path": _pointer("status", "suspension", k), "value": v} for k, v in fields.items()]
    stale = ("resumedAt", "resumedBy", "justification")
    ops += [{"op": "remove", "path": _pointer("status", "suspension", k)} for k in stale if _has(obj, k)]
    return ops


def _has(obj: Mapping[str, Any], suspension_field: str) -> bool:
    return suspension_field in ((obj.get("status") or {}).get("suspension") or {})


def resume_patch(obj: Mapping[str, Any], *, user: str, now: datetime, justification: str) -> Patch:
    """Resume a suspended system; the operator then restores the recorded replicas."""
    current = _system(obj).status.suspension
    if current is None or not current.active:
        raise RecordError("the system is not suspended")
    fields = {"active": False, "resumedAt": rfc3339(now), "resumedBy": user, "justification": justification}
    return [_precondition(obj)] + [
        {"op": "add", "path": _pointer("status", "suspension", k), "value": v} for k, v in fields.items()
    ]


def retirement_patch(obj: Mapping[str, Any], *, user: str, now: datetime, justification: str) -> Patch:
    """Retire the system (final): its workloads may not run, and it may then be deleted."""
    current = _system(obj).status.retirement
    if current is not None:
        raise RecordError(f"already retired by {current.retired_by} at {rfc3339(current.retired_at)}")
    record = Retirement(retired_by=user, retired_at=now, justification=justification)
    return [_precondition(obj), _set_status(obj, "retirement", record.to_dict())]
