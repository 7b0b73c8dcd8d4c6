"""Pure views of AISystems for people: the governance summary and the timeline.

`summary` is what `aigov status` shows and prints as JSON/YAML; `timeline`
merges the records in status with the system's Events into one time-ordered
history (`aigov history`). No I/O: callers pass the objects they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from aigov.core.config import Config
from aigov.core.lifecycle import (
    AssessmentState,
    approval_valid,
    assessment_state,
    counted_approvals,
    decisive_assessment,
)
from aigov.core.model import AISystem, ApproverDecision, AssessmentStatus, Suspension, rfc3339


def age(when: datetime, now: datetime) -> str:
    """`in 3d` / `2h ago`, in the largest whole unit (kubectl style)."""
    delta = when - now
    span = abs(delta)
    for unit, size in (("d", timedelta(days=1)), ("h", timedelta(hours=1)), ("m", timedelta(minutes=1))):
        if span >= size:
            amount = f"{span // size}{unit}"
            break
    else:
        amount = f"{int(span.total_seconds())}s"
    return f"in {amount}" if delta > timedelta(0) else f"{amount} ago"


def _time(when: datetime | None) -> str | None:
    return rfc3339(when) if when else None


def summary(obj: Mapping[str, Any], config: Config, now: datetime) -> dict[str, Any]:
    """The governance view of one AISystem (JSON-ready, camelCase)."""
    system = AISystem.model_validate(obj)
    status, meta = system.status, system.metadata
    requirement = config.requirement(system.spec.risk_tier)
    record = decisive_assessment(status)
    assessment = None
    if record is not None:
        valid = assessment_state(system, requirement, now) == AssessmentState.VALID
        assessment = {**record.to_dict(), "valid": valid}
    approvals = [
        {**entry.to_dict(), "valid": approval_valid(entry, now)}
        for entry in counted_approvals(status.approvals).values()
    ]
    return {
        "namespace": meta.namespace,
        "name": meta.name,
        "riskTier": str(system.spec.risk_tier),
        "phase": str(status.phase) if status.phase else None,
        "purpose": system.spec.purpose,
        "owner": system.spec.owner.name if system.spec.owner else None,
        "assessment": assessment,
        "assessments": [entry.to_dict() for entry in status.assessment_records],
        "approvals": approvals,
        "required": {"approvals": requirement.min_approvals, "roles": list(requirement.required_roles)},
        "suspension": status.suspension.to_dict() if status.suspension else None,
        "retirement": status.retirement.to_dict() if status.retirement else None,
        "boundWorkloads": [w.to_dict() for w in status.bound_workloads],
        "nextExpiry": _time(status.next_expiry),
        "conditions": [c.to_dict() for c in status.conditions],
    }


def status_row(view: Mapping[str, Any], now: datetime) -> list[str]:
    """One line of `aigov status`: name, tier, phase, assessed, approvals, suspended, workloads, next expiry."""
    assessment = view["assessment"]
    if assessment is None:
        assessed = "-"
    elif assessment["status"] != AssessmentStatus.COMPLETED:
        assessed = f"{assessment['status']} ({assessment['assessor']})"
    else:
        assessed = f"{assessment['assessor']}, {_until(assessment.get('expiresAt'), now)}"
    valid = sum(1 for a in view["approvals"] if a["valid"])
    suspension = view["suspension"]
    suspended = "yes" if suspension and suspension.get("active") else "-"
    nxt = view["nextExpiry"]
    return [
        view["name"],
        view["riskTier"],
        view["phase"] or "-",
        assessed,
        f"{valid}/{view['required']['approvals']}",
        suspended,
        str(len(view["boundWorkloads"])),
        age(datetime.fromisoformat(nxt), now) if nxt else "-",
    ]


def _until(expires: str | None, now: datetime) -> str:
    if not expires:
        return "no expiry"
    when = datetime.fromisoformat(expires)
    return f"until {expires[:10]}" if when > now else f"expired {age(when, now)}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One point in a system's governance history."""

    time: datetime
    what: str
    actor: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {**asdict(self), "time": rfc3339(self.time)}


def _suspension_entries(suspension: Suspension) -> Iterable[Entry]:
    by = suspension.suspended_by or ("operator" if suspension.check else "")
    if suspension.since:
        cause = f"check {suspension.check}" + (f" = {suspension.value:g}" if suspension.value is not None else "")
        detail = "; ".join(part for part in (suspension.reason, cause if suspension.check else "") if part)
        yield Entry(suspension.since, "suspended", by, detail)
    if suspension.resumed_at:
        yield Entry(suspension.resumed_at, "resumed", suspension.resumed_by or "", suspension.justification or "")


def _event_time(event: Mapping[str, Any]) -> datetime | None:
    meta = event.get("metadata") or {}
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        value = event.get(key)
        if value:
            return datetime.fromisoformat(str(value))
    created = meta.get("creationTimestamp")
    return datetime.fromisoformat(str(created)) if created else None


def _event_entry(event: Mapping[str, Any]) -> Entry | None:
    when = _event_time(event)
    if when is None:
        return None
    source = event.get("reportingComponent") or (event.get("source") or {}).get("component") or ""
    count = event.get("count") or 1
    message = str(event.get("message") or "").strip() + (f" (x{count})" if count > 1 else "")
    kind = "warning" if event.get("type") == "Warning" else "event"
    return Entry(when, f"{kind}: {event.get('reason') or ''}", str(source), message)


def _archived_detail(kind: str, record: Mapping[str, Any]) -> str:
    if record.get("truncated"):
        return f"record of {record.get('size')} bytes, kept as its sha256"
    if kind == "retirement":
        return str(record.get("justification") or "")
    if kind == "spec":
        return f"generation {record.get('generation')}, spec sha256 {str(record.get('specSha256'))[:12]}"
    if kind == "assessment":
        return f"{record.get('status')}, residual risk {record.get('residualRisk', '-')}, {record.get('reference', '')}"
    if kind == "approval":
        return "; ".join(str(p) for p in (record.get("decision"), record.get("role"), record.get("justification")) if p)
    if kind == "suspension":
        return "; ".join(str(p) for p in (record.get("reason"), record.get("check")) if p)
    if kind == "resume":
        return str(record.get("justification") or "")
    return f"deleted (deletionTimestamp {record.get('deletionTimestamp')})"


def archive_timeline(entries: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """An archive's entries (`aigov.core.archive`) as timeline entries, at the time the operator observed them."""
    return [
        Entry(
            datetime.fromisoformat(str(e["observedAt"])),
            f"archived {e['kind']}",
            str(e.get("by") or ""),
            _archived_detail(str(e["kind"]), e.get("record") or {}),
        )
        for e in entries
    ]


def timeline(obj: Mapping[str, Any], events: Iterable[Mapping[str, Any]], *, records: bool = True) -> list[Entry]:
    """The governance history of one AISystem, oldest first (Events of an earlier namesake left out); without
    the records in its status when `records` is False (the archive has them, `archive_timeline`)."""
    system = AISystem.model_validate(obj)
    status = system.status
    entries: list[Entry] = []
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if created:
        entries.append(Entry(datetime.fromisoformat(created), "created", "", ""))
    for record in status.assessment_records if records else ():
        detail = ", ".join(
            part
            for part in (
                f"for tier {record.risk_tier}" if record.risk_tier else "",
                f"residual risk {record.residual_risk}" if record.residual_risk else "",
                f"until {rfc3339(record.expires_at)}" if record.expires_at else "",
                record.reference or "",
            )
            if part
        )
        entries.append(Entry(record.completed_at, f"assessment {record.status}", record.assessor, detail))
    for entry in status.approvals if records else ():
        parts = [f"as {entry.role}" if entry.role else ""]
        if entry.decision == ApproverDecision.APPROVED and entry.expires_at:
            parts.append(f"until {rfc3339(entry.expires_at)}")
        parts.append(entry.justification or "")
        entries.append(Entry(entry.decided_at, str(entry.decision), entry.approver, "; ".join(p for p in parts if p)))
    suspensions = (*status.suspension_history, *([status.suspension] if status.suspension else []))
    for suspension in suspensions if records else ():
        entries.extend(_suspension_entries(suspension))
    if records and status.retirement is not None:
        retired = status.retirement
        entries.append(Entry(retired.retired_at, "retired", retired.retired_by, retired.justification))
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    if ready is not None and status.phase:
        entries.append(Entry(ready.last_transition_time, f"phase {status.phase}", "operator", ready.message))
    uid = system.metadata.uid
    mine = (e for e in events if (e.get("involvedObject") or {}).get("uid") in (None, uid))
    entries.extend(e for e in map(_event_entry, mine) if e is not None)
    return sorted(entries, key=lambda e: e.time)
