"""Nonconformities and corrective actions (ISO/IEC 42001 clause 10.2, A.8.4; EU AI Act Art. 73), as data.

A `Nonconformity` (`aigov.io/v1alpha1`, namespaced, beside its AISystem) is opened
by a machine: the operator on every suspension, the audit on every workload of a
governed system found running while the system may not run, the break-glass
code on every exception (`for_exception`). Its name is derived from what opened
it, so opening twice is a no-op (a create answered 409).

A person closes it through the status subresource with a root cause, the action
taken, a ticket and an effectiveness check (a drift check of the system that must
stay healthy for N evaluations); the API server binds the closure to its author
(`aigov.install.nonconformity_policy`). The operator then counts the check's
healthy evaluations (`next_effectiveness`) and marks the closure effective.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from aigov.core.config import API_VERSION
from aigov.core.model import CheckState, Timestamp, _Model, _rules, rfc3339

NC_KIND = "Nonconformity"
NC_PLURAL = "nonconformities"
DUE = timedelta(days=15)
"""How long a nonconformity may stay open: the longest reporting time of a serious incident (Art. 73(2))."""


class Source(StrEnum):
    """What opened a nonconformity."""

    SUSPENSION = "suspension"
    AUDIT = "audit"
    EXCEPTION = "exception"


class NCPhase(StrEnum):
    """Open; Verifying (closed, the effectiveness check not yet passed); Closed (effective)."""

    OPEN = "Open"
    VERIFYING = "Verifying"
    CLOSED = "Closed"


class NonconformitySpec(_Model):
    """What happened; written once by whoever opened it (immutable)."""

    model_config = ConfigDict(json_schema_extra=_rules(("self == oldSelf", "a nonconformity's spec is immutable")))

    system: str = Field(min_length=1, description="The AISystem (same namespace).")
    source: Source = Field(description="What opened it: `suspension`, `audit` or `exception`.")
    opened_at: Timestamp = Field(description="When it was opened.")
    opened_by: str = Field(min_length=1, description="Who or what opened it (component or user).")
    summary: str = Field(min_length=1, description="What was found.")
    reference: str | None = Field(default=None, description="The suspension, workload or exception it is about.")
    risk_tier: str | None = Field(default=None, description="The system's risk tier when it was opened.")
    due_at: Timestamp = Field(description="When it must be closed; overdue after.")


class EffectivenessCheck(_Model):
    """The drift check that must stay healthy for `intervals` evaluations after closing."""

    check: str = Field(min_length=1, description="A check name in the AISystem's spec.monitoring.checks.")
    intervals: int = Field(ge=1, description="Consecutive healthy evaluations required.")


class Closure(_Model):
    """A person's closure (written once, bound to its author by the API server)."""

    closed_by: str = Field(min_length=1, description="Who closed it (the Kubernetes user who recorded it).")
    closed_at: Timestamp = Field(description="When it was closed.")
    root_cause: str = Field(min_length=1, description="The root cause found.")
    action: str = Field(min_length=1, description="The corrective action taken.")
    ticket: str = Field(min_length=1, description="The ticket or change reference.")
    effectiveness_check: EffectivenessCheck = Field(description="How the action's effectiveness is verified.")


class Effectiveness(_Model):
    """The operator's count of healthy evaluations of the effectiveness check since the closure."""

    healthy_intervals: int = Field(default=0, ge=0, description="Consecutive healthy evaluations counted.")
    last_evaluated_at: Timestamp | None = Field(default=None, description="The check evaluation last counted.")
    effective: bool = Field(default=False, description="True once the check stayed healthy long enough.")
    effective_at: Timestamp | None = Field(default=None, description="When it became effective.")


class NonconformityStatus(_Model):
    """People write `closure`; the operator writes `resumedBy` and `effectiveness`."""

    closure: Closure | None = Field(default=None, description="The closure (people).")
    resumed_by: str | None = Field(default=None, description="Who resumed the suspended system (operator).")
    effectiveness: Effectiveness | None = Field(default=None, description="Effectiveness verification (operator).")


OPERATOR_FIELDS = ("resumedBy", "effectiveness")


class Nonconformity(_Model):
    """A nonconformity and its corrective action."""

    api_version: str = Field(default=API_VERSION, description="`aigov.io/v1alpha1`.")
    kind: str = Field(default=NC_KIND, description="`Nonconformity`.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Standard object metadata.")
    spec: NonconformitySpec = Field(description="What happened.")
    status: NonconformityStatus = Field(default_factory=NonconformityStatus, description="Closure and verification.")


def nc_name(source: Source, system: str, key: str) -> str:
    """A stable DNS name for the nonconformity `source` opened about `key` of `system`."""
    digest = hashlib.sha256(f"{source}\0{system}\0{key}".encode()).hexdigest()[:10]
    return f"{source.value}-{re.sub(r'[^a-z0-9-]', '-', system.lower())[:40].strip('-')}-{digest}"


def _manifest(
    namespace: str, system: str, source: Source, key: str, *, now: datetime, by: str, summary: str, tier: str | None
) -> dict[str, Any]:
    spec = {
        "system": system,
        "source": source.value,
        "openedAt": rfc3339(now),
        "openedBy": by,
        "summary": summary,
        "reference": key,
        "dueAt": rfc3339(now + DUE),
        **({"riskTier": tier} if tier else {}),
    }
    return {
        "apiVersion": API_VERSION,
        "kind": NC_KIND,
        "metadata": {
            "name": nc_name(source, system, key),
            "namespace": namespace,
            "labels": {"aigov.io/system": system, "aigov.io/source": source.value},
        },
        "spec": spec,
    }


def for_suspension(system: dict[str, Any], suspension: dict[str, Any], *, now: datetime, by: str) -> dict[str, Any]:
    """The nonconformity a suspension of `system` opens (keyed by the suspension's start)."""
    meta, spec = system.get("metadata") or {}, system.get("spec") or {}
    since = str(suspension.get("since") or "")
    check = f", check {suspension['check']}" if suspension.get("check") else ""
    who = suspension.get("suspendedBy") or "the operator"
    summary = f"suspended by {who} ({suspension.get('reason') or 'no reason given'}{check})"
    return _manifest(
        str(meta.get("namespace")), str(meta.get("name")), Source.SUSPENSION, f"suspension since {since}",
        now=now, by=by, summary=summary, tier=spec.get("riskTier"),
    )  # fmt: skip


def for_audit(
    namespace: str, system: str, workload: str, codes: list[str], *, now: datetime, by: str, tier: str | None
) -> dict[str, Any]:
    """The nonconformity the audit opens for `workload` (`Kind/name`) running while `system` may not run."""
    summary = f"{workload} is running while {system} may not run ({', '.join(sorted(codes))})"
    key = f"{workload} {' '.join(sorted(codes))}"
    return _manifest(namespace, system, Source.AUDIT, key, now=now, by=by, summary=summary, tier=tier)


def for_exception(
    namespace: str, system: str, exception: str, *, now: datetime, by: str, reason: str, tier: str | None
) -> dict[str, Any]:
    """The nonconformity a break-glass exception opens: create it (POST; 409 means already open) when an
    exception named `exception` is granted to `system` by `by`."""
    summary = f"break-glass exception {exception} granted by {by}: {reason}"
    return _manifest(namespace, system, Source.EXCEPTION, exception, now=now, by=by, summary=summary, tier=tier)


def phase(nc: dict[str, Any]) -> NCPhase:
    """Open, Verifying or Closed."""
    status = nc.get("status") or {}
    if not status.get("closure"):
        return NCPhase.OPEN
    return NCPhase.CLOSED if (status.get("effectiveness") or {}).get("effective") else NCPhase.VERIFYING


def overdue(nc: dict[str, Any], now: datetime) -> bool:
    """Still open after its due date."""
    due = (nc.get("spec") or {}).get("dueAt")
    return phase(nc) is NCPhase.OPEN and bool(due) and datetime.fromisoformat(str(due)) < now


def next_effectiveness(nc: dict[str, Any], checks: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The effectiveness to record after the check's latest evaluation, or None when nothing changes.

    Each new evaluation in state `ok` counts one healthy interval; any other state restarts the count.
    """
    status = nc.get("status") or {}
    closure, current = status.get("closure"), dict(status.get("effectiveness") or {})
    if not closure or current.get("effective"):
        return None
    wanted = closure["effectivenessCheck"]
    check = next((c for c in checks if c.get("name") == wanted["check"]), None)
    evaluated = (check or {}).get("lastEvaluatedAt")
    if not evaluated or evaluated == current.get("lastEvaluatedAt"):
        return None
    if datetime.fromisoformat(str(evaluated)) < datetime.fromisoformat(str(closure["closedAt"])):
        return None
    healthy = current.get("healthyIntervals", 0) + 1 if check and check.get("state") == CheckState.OK else 0
    result = {"healthyIntervals": healthy, "lastEvaluatedAt": evaluated, "effective": healthy >= wanted["intervals"]}
    return result | ({"effectiveAt": rfc3339(now)} if result["effective"] else {})
