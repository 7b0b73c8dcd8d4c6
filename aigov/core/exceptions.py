"""The AIGovException resource (`aigov.io/v1alpha1`): a time-bound, approved waiver of violation codes.

A requester creates the exception (the spec, immutable); approvers append records
to `status.records` through the status subresource; the record policy
(`aigov.install.exception_policy`) binds both to who makes them. Whether an
exception is honoured is `state(...)`, computed from the records and the time,
never from a field people write; `policies/aigov/admission/exceptions.rego` gives
the same answer to the webhook, `aigov check` and the audit (docs/exceptions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from aigov.core.config import API_VERSION, EXCEPTION_KIND, PROHIBITED_CODE, ExceptionPolicy
from aigov.core.events import Announcement, EventType
from aigov.core.model import ObjectMeta, Timestamp, _Model, rfc3339
from aigov.core.records import _precondition as precondition
from aigov.core.records import _set_status as set_status

CODE_PATTERN = r"^AIGOV_[A-Z_]+$"


class ExceptionAction(StrEnum):
    """What a record says about the exception."""

    APPROVED = "approved"
    REVOKED = "revoked"
    REVIEWED = "reviewed"


class ExceptionState(StrEnum):
    """Where an exception stands at a given time; Approved and BreakGlass waive."""

    PENDING = "Pending"
    APPROVED = "Approved"
    BREAK_GLASS = "BreakGlass"
    EXPIRED = "Expired"
    REVOKED = "Revoked"


HONOURED = frozenset({ExceptionState.APPROVED, ExceptionState.BREAK_GLASS})


class Selector(_Model):
    """Workloads by label: every label listed must be on the workload or its pod template."""

    match_labels: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
        description="Labels the workload must carry.",
    )


class ExceptionSpec(_Model):
    """What the requester asks for; immutable once created."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "spec is immutable; request a new exception instead"},
                {"rule": "has(self.system) || has(self.selector)", "message": "name a system, a selector or both"},
                {
                    "rule": f"!self.codes.exists(c, c == '{PROHIBITED_CODE}')",
                    "message": f"{PROHIBITED_CODE} can never be waived",
                },
            ]
        }
    )

    system: str | None = Field(
        default=None, max_length=253, description="The AISystem (same namespace) whose workloads are covered."
    )
    selector: Selector | None = Field(default=None, description="Workloads covered by label (with `system`: both).")
    codes: list[Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]] = Field(
        min_length=1,
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "set"},
        description="Violation codes waived, e.g. AIGOV_APPROVAL_MISSING (never AIGOV_PROHIBITED).",
    )
    justification: str = Field(min_length=1, description="Why the exception is needed.")
    ticket: str = Field(min_length=1, description="Ticket or change reference, e.g. CHG-1234.")
    requested_by: str = Field(min_length=1, description="The requesting user; must be who creates the object.")
    expires_at: Timestamp = Field(description="When the exception stops waiving (at most the configured maximum).")
    break_glass: bool = Field(
        default=False, description="An emergency exception an on-call group grants alone, for a few hours."
    )


class ExceptionRecord(_Model):
    """One approval, revocation or break-glass review; `status.records` is append-only."""

    action: ExceptionAction = Field(description="approved, revoked or reviewed (a break-glass exception).")
    by: str = Field(min_length=1, description="The user who recorded it; must be who writes it.")
    at: Timestamp = Field(description="When it was recorded.")
    comment: str | None = Field(default=None, description="Why.")


class ExceptionStatus(_Model):
    """The records, and the state the operator last computed (for display only)."""

    records: list[ExceptionRecord] = Field(
        default_factory=list, json_schema_extra={"x-kubernetes-list-type": "atomic"}, description="Append-only."
    )
    state: ExceptionState | None = Field(
        default=None, description="The operator's last computed state (display only; never read to decide)."
    )


class AIGovException(_Model):
    """A time-bound exception to aigov's admission rules, approved by someone other than its requester."""

    api_version: str = Field(default=API_VERSION, description="`aigov.io/v1alpha1`.")
    kind: str = Field(default=EXCEPTION_KIND, description="`AIGovException`.")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: ExceptionSpec = Field(description="What is waived, for whom, why and until when.")
    status: ExceptionStatus = Field(default_factory=ExceptionStatus, description="Records and state.")

    @property
    def name(self) -> str:
        """`metadata.name`."""
        return self.metadata.name or ""

    @property
    def created(self) -> datetime | None:
        """`metadata.creationTimestamp`, set by the API server."""
        raw = (self.metadata.model_extra or {}).get("creationTimestamp")
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def max_duration(exc: AIGovException, policy: ExceptionPolicy) -> timedelta:
    """The longest an exception of its kind may last."""
    return timedelta(hours=policy.break_glass_hours) if exc.spec.break_glass else timedelta(days=policy.max_days)


def effective_expiry(exc: AIGovException, policy: ExceptionPolicy) -> datetime | None:
    """`spec.expiresAt`, capped at creation plus the maximum; None without a creation time."""
    created = exc.created
    if created is None:
        return None
    return min(exc.spec.expires_at, created + max_duration(exc, policy))


def state(exc: AIGovException, policy: ExceptionPolicy, now: datetime) -> ExceptionState:
    """The state at `now`: revoked, expired (from its effective expiry on), break-glass, approved or pending.

    Honoured (Approved, BreakGlass) only from creation to strictly before the effective
    expiry; Rego (exceptions.rego) decides the same way.
    """
    if any(r.action == ExceptionAction.REVOKED for r in exc.status.records):
        return ExceptionState.REVOKED
    expiry, created = effective_expiry(exc, policy), exc.created
    if expiry is None or created is None:
        return ExceptionState.PENDING
    if now >= expiry:
        return ExceptionState.EXPIRED
    if now < created:
        return ExceptionState.PENDING
    if exc.spec.break_glass:
        return ExceptionState.BREAK_GLASS
    return ExceptionState.APPROVED if approver(exc) is not None else ExceptionState.PENDING


def _first_by_other(exc: AIGovException, action: ExceptionAction) -> str | None:
    requester = exc.spec.requested_by.lower()
    return next((r.by for r in exc.status.records if r.action == action and r.by.lower() != requester), None)


def approver(exc: AIGovException) -> str | None:
    """Who approved it (the first approval by someone other than the requester)."""
    return _first_by_other(exc, ExceptionAction.APPROVED)


def reviewer(exc: AIGovException) -> str | None:
    """Who reviewed a break-glass exception afterwards (None: review outstanding)."""
    return _first_by_other(exc, ExceptionAction.REVIEWED)


def parse(obj: dict[str, Any]) -> AIGovException:
    """An AIGovException from the API server's JSON (`pydantic.ValidationError` when malformed)."""
    return AIGovException.model_validate(obj)


def request_object(name: str, namespace: str, spec: ExceptionSpec) -> dict[str, Any]:
    """The AIGovException a requester creates (no status: records come through the status subresource)."""
    obj = AIGovException(metadata=ObjectMeta(name=name, namespace=namespace), spec=spec).to_dict()
    obj.pop("status", None)
    for key in ("labels", "annotations"):
        obj["metadata"].pop(key, None)
    return obj


def record_patch(obj: Mapping[str, Any], record: ExceptionRecord) -> list[dict[str, Any]]:
    """A JSON patch appending `record` to `status.records`, pinned to the resourceVersion read."""
    status = obj.get("status")
    if isinstance(status, Mapping) and isinstance(status.get("records"), list):
        op = {"op": "add", "path": "/status/records/-", "value": record.to_dict()}
    else:
        op = set_status(obj, "records", [record.to_dict()])
    return [precondition(obj), op]


def grant_action(exc: AIGovException) -> ExceptionAction:
    """What an approver records: a review for break-glass (already in force), else an approval."""
    return ExceptionAction.REVIEWED if exc.spec.break_glass else ExceptionAction.APPROVED


def announcement(exc: AIGovException, previous: ExceptionState | None, current: ExceptionState) -> Announcement | None:
    """The Event for a change of state (grant, break-glass, expiry, revocation); None when nothing changed."""
    if current in (previous, ExceptionState.PENDING):
        return None
    codes = ", ".join(exc.spec.codes)
    until = f"until {rfc3339(exc.spec.expires_at)}"
    who = exc.spec.requested_by
    match current:
        case ExceptionState.BREAK_GLASS:
            message = f"break-glass by {who} waives {codes} {until}; an approver must review it"
            return Announcement(EventType.WARNING, "BreakGlassGranted", message)
        case ExceptionState.APPROVED:
            message = f"approved by {approver(exc)} (requested by {who}): waives {codes} {until}"
            return Announcement(EventType.NORMAL, "ExceptionApproved", message)
        case ExceptionState.EXPIRED:
            return Announcement(EventType.NORMAL, "ExceptionExpired", f"no longer waives {codes}")
        case _:
            return Announcement(EventType.NORMAL, "ExceptionRevoked", f"revoked; no longer waives {codes}")
