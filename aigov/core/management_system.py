"""The AIManagementSystem resource (`aigov.io/v1alpha1`, cluster-scoped): the organisation's AI management system.

One object holds what ISO/IEC 42001 asks of the organisation rather than of one
AI system: the scope (clause 4.3), the AI policy's reference and version (5.2),
roles (5.3), objectives with their KPIs (6.2) and the organisation-level
Statement of Applicability (6.1.3). `spec.version` names each revision; an
approval in `status.approvals` pins the version and the object's generation it
approved, and the API server binds it to the approver (`aigov.install.management_policy`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from aigov.core.config import API_VERSION
from aigov.core.controls import ControlId
from aigov.core.model import _ATOMIC, ControlStatus, ObjectMeta, Timestamp, _list_map, _Model

MS_KIND = "AIManagementSystem"
MS_PLURAL = "aimanagementsystems"


class Scope(_Model):
    """The AI management system's scope and boundaries (clause 4.3)."""

    description: str = Field(min_length=1, description="What the AI management system covers.")
    namespaces: list[str] = Field(
        default_factory=list, description="The Kubernetes namespaces in scope (empty: all).", json_schema_extra=_ATOMIC
    )
    exclusions: str | None = Field(default=None, description="What is excluded, and why.")


class PolicyRef(_Model):
    """The documented AI policy (clause 5.2, A.2.2)."""

    reference: str = Field(min_length=1, description="Where the AI policy is (URI or document id).")
    version: str = Field(min_length=1, description="The AI policy's version.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the policy document.")


class Role(_Model):
    """One role of the AI management system and who holds it (clause 5.3, A.3.2)."""

    name: str = Field(min_length=1, description="The role, e.g. `AI governance lead`.")
    holder: str = Field(min_length=1, description="Who holds it (person or team).")
    responsibilities: str | None = Field(default=None, description="What the role is accountable for.")


class MeasuredKpi(StrEnum):
    """KPIs aigov measures itself in every evidence pack (the management review compares them with targets)."""

    MONITORING_COVERAGE = "monitoringCoverage"
    APPROVED_SHARE = "approvedShare"
    OPEN_NONCONFORMITIES = "openNonconformities"
    OVERDUE_NONCONFORMITIES = "overdueNonconformities"
    ADMISSIONS_DENIED = "admissionsDenied"


class Measure(_Model):
    """How aigov measures an objective: a KPI of the pack against a numeric target."""

    kpi: MeasuredKpi = Field(description="The KPI aigov computes in every evidence pack.")
    comparator: Literal[">=", "<="] = Field(description="How the KPI must compare with `value` to meet the target.")
    value: float = Field(description="The target value (shares are 0 to 1).")


class Objective(_Model):
    """An AI objective and how it is measured (clause 6.2)."""

    name: str = Field(min_length=1, description="Objective name, unique.")
    statement: str = Field(min_length=1, description="What the organisation aims for.")
    kpi: str = Field(min_length=1, description="The key performance indicator measuring it.")
    target: str = Field(min_length=1, description="The KPI's target, e.g. `100%` or `<= 2 per quarter`.")
    owner: str | None = Field(default=None, description="Who owns the objective.")
    measure: Measure | None = Field(default=None, description="How aigov measures it, when it can.")


class SoAEntry(_Model):
    """One Annex A control in the organisation's Statement of Applicability (clause 6.1.3)."""

    id: ControlId = Field(description="Annex A control ID, e.g. `A.2.2`.")
    applicable: bool = Field(description="Whether the control is applicable.")
    justification: str = Field(min_length=1, description="Why the control is included or excluded.")
    status: ControlStatus = Field(description="Implementation status.")
    evidence: str | None = Field(default=None, description="Where the evidence is (URI or short note).")
    owner: str = Field(min_length=1, description="Who is accountable for the control.")


class AIManagementSystemSpec(_Model):
    """The AI management system as the organisation declares it."""

    version: str = Field(min_length=1, description="This revision's version; an approval pins it.")
    scope: Scope = Field(description="Scope and boundaries (clause 4.3).")
    policy: PolicyRef = Field(description="The AI policy (clause 5.2).")
    roles: list[Role] = Field(
        default_factory=list, description="Roles and their holders (clause 5.3).", json_schema_extra=_list_map("name")
    )
    objectives: list[Objective] = Field(
        default_factory=list, description="AI objectives and KPIs (clause 6.2).", json_schema_extra=_list_map("name")
    )
    statement_of_applicability: list[SoAEntry] = Field(
        default_factory=list,
        description="The organisation's Statement of Applicability (clause 6.1.3).",
        json_schema_extra=_list_map("id"),
    )


class MSApproval(_Model):
    """One approval of a revision; the list is append-only, and the API server binds each entry to its writer."""

    approver: str = Field(min_length=1, description="Who approved (the Kubernetes user who recorded it).")
    version: str = Field(min_length=1, description="The spec.version approved.")
    generation: int = Field(ge=1, description="The object's metadata.generation approved (pins the whole spec).")
    decided_at: Timestamp = Field(description="When the approval was made.")
    justification: str | None = Field(default=None, description="Why, e.g. the management review's minutes.")


class Review(_Model):
    """A management review's sign-off of an evidence pack (clause 9.3), bound to its reviewer by the API server."""

    reviewer: str = Field(min_length=1, description="Who signed off (the Kubernetes user who recorded it).")
    reviewed_at: Timestamp = Field(description="When.")
    pack_digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="The reviewed pack's digest.")
    decision: str = Field(min_length=1, description="The review's conclusion, e.g. `accepted`.")
    notes: str | None = Field(default=None, description="Decisions and actions, or where the minutes are.")


class AIManagementSystemStatus(_Model):
    """Records written by people (approvals, management reviews) through the status subresource."""

    approvals: list[MSApproval] = Field(
        default_factory=list, description="Approvals, append-only.", json_schema_extra=_ATOMIC
    )
    reviews: list[Review] = Field(
        default_factory=list, description="Management review sign-offs, append-only.", json_schema_extra=_ATOMIC
    )


class AIManagementSystem(_Model):
    """The organisation's AI management system."""

    api_version: str = Field(default=API_VERSION, description="`aigov.io/v1alpha1`.")
    kind: str = Field(default=MS_KIND, description="`AIManagementSystem`.")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: AIManagementSystemSpec = Field(description="The AI management system.")
    status: AIManagementSystemStatus = Field(
        default_factory=AIManagementSystemStatus, description="Approvals recorded by people."
    )


def current_approval(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The last approval that pins this object's current generation and version, if any."""
    spec, meta = obj.get("spec") or {}, obj.get("metadata") or {}
    approvals = (obj.get("status") or {}).get("approvals") or []
    pinned = (meta.get("generation"), spec.get("version"))
    matching = [a for a in approvals if (a.get("generation"), a.get("version")) == pinned]
    return matching[-1] if matching else None
