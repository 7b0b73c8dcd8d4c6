"""The AISystem resource (`aigov.io/v1alpha1`) as pydantic models: the source of truth.

`aigov.install.crd` generates the CRD schema from these classes, so every field carries
a description (it becomes `kubectl explain` text), closed sets are enums and the
Kubernetes list semantics and CEL rules ride along in `json_schema_extra`.

Reading is lenient: unknown fields are ignored everywhere, and the fields the
operator derives (phase, conditions, counts, check states) fall back to empty
when a stored value does not parse, because the operator recomputes them.
Timestamps are timezone-aware UTC and serialise as RFC 3339 (`...Z`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic.alias_generators import to_camel

from aigov.core.config import API_VERSION, KIND, RiskTier
from aigov.core.controls import ControlId


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """`value` as RFC 3339 in UTC, e.g. `2026-01-31T12:00:00Z` (fraction only when non-zero)."""
    value = _as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ")


Timestamp = Annotated[datetime, AfterValidator(_as_utc), PlainSerializer(rfc3339, return_type=str, when_used="json")]
"""A point in time: naive values are read as UTC, aware ones converted to UTC."""

DURATION_PATTERN = r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$"
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"


def parse_duration(text: str) -> timedelta:
    """A Prometheus duration (`90s`, `5m`, `1h30m`, `0`) as a timedelta; `ValueError` otherwise."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"{text!r} is not a duration like 30s, 5m or 1h30m")
    parts = re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", text)
    return timedelta(seconds=sum(int(n) * _DURATION_UNITS[unit] for n, unit in parts))


def _rules(*rules: tuple[str, str]) -> dict[str, Any]:
    """CEL validation rules for a schema node, as (rule, message) pairs."""
    return {"x-kubernetes-validations": [{"rule": rule, "message": message} for rule, message in rules]}


def _list_map(*keys: str) -> dict[str, Any]:
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


_ATOMIC: dict[str, Any] = {"x-kubernetes-list-type": "atomic"}
_SET: dict[str, Any] = {"x-kubernetes-list-type": "set"}


class _Model(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API server stores: camelCase, RFC 3339 times, no nulls."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- enums ---------------------------------------------------------------------------------------


class LifecycleStage(StrEnum):
    """Where the system is in its life cycle (ISO/IEC 42001 A.6)."""

    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    PRODUCTION = "production"
    RETIRED = "retired"


class Comparator(StrEnum):
    """How a check's value is compared with its threshold; true means breaching."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


class OnMissingData(StrEnum):
    """What a check does when its query returns no sample (missing data is never healthy)."""

    IGNORE = "ignore"
    ALERT = "alert"
    SUSPEND = "suspend"


class CheckAction(StrEnum):
    """What a sustained breach does."""

    ALERT = "alert"
    SUSPEND = "suspend"


class ControlStatus(StrEnum):
    """Implementation status of an Annex A control for this system (Statement of Applicability)."""

    IMPLEMENTED = "implemented"
    PARTIAL = "partial"
    PLANNED = "planned"
    NOT_APPLICABLE = "notApplicable"


class AssessmentStatus(StrEnum):
    """Outcome of an impact assessment."""

    COMPLETED = "completed"
    REJECTED = "rejected"


class ResidualRisk(StrEnum):
    """Residual risk accepted by the assessor."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ApproverDecision(StrEnum):
    """An approver's decision."""

    APPROVED = "approved"
    REVOKED = "revoked"


class OperatorRole(StrEnum):
    """The organisation's role for the system under the EU AI Act (Art. 3(3)-(8))."""

    PROVIDER = "provider"
    DEPLOYER = "deployer"
    IMPORTER = "importer"
    DISTRIBUTOR = "distributor"
    AUTHORISED_REPRESENTATIVE = "authorisedRepresentative"
    PRODUCT_MANUFACTURER = "productManufacturer"


class Article6Exemption(StrEnum):
    """The Art. 6(3) condition under which an Annex III system is not high-risk."""

    NARROW_PROCEDURAL_TASK = "narrowProceduralTask"
    IMPROVES_HUMAN_ACTIVITY = "improvesHumanActivity"
    DETECTS_DECISION_PATTERNS = "detectsDecisionPatterns"
    PREPARATORY_TASK = "preparatoryTask"


class Phase(StrEnum):
    """The operator's summary of the system's governance state."""

    DRAFT = "Draft"
    INCOMPLETE = "Incomplete"
    AWAITING_ASSESSMENT = "AwaitingAssessment"
    AWAITING_APPROVAL = "AwaitingApproval"
    APPROVED = "Approved"
    SUSPENDED = "Suspended"
    EXPIRED = "Expired"
    RETIRED = "Retired"
    PROHIBITED = "Prohibited"


class ConditionStatus(StrEnum):
    """Kubernetes condition status."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class ConditionType(StrEnum):
    """The condition types the operator maintains."""

    IMPACT_ASSESSED = "ImpactAssessed"
    APPROVED = "Approved"
    SUSPENDED = "Suspended"
    READY = "Ready"


class CheckState(StrEnum):
    """Where a monitoring check stands (Prometheus alert states plus data problems)."""

    OK = "ok"
    PENDING = "pending"
    BREACHED = "breached"
    NO_DATA = "noData"
    ERROR = "error"


# --- spec ----------------------------------------------------------------------------------------


class Contact(_Model):
    """A named person or team and how to reach them."""

    name: str = Field(min_length=1, description="Name of the person or team.")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", description="E-mail address.")


class ModelRef(_Model):
    """A machine-learning model the system serves."""

    name: str = Field(min_length=1, description="Model name, e.g. `credit-risk-gbm`.")
    version: str | None = Field(default=None, description="Model version or revision.")
    uri: str | None = Field(
        default=None, description="Where the model is loaded from, e.g. `hf://org/model` or `s3://bucket/key`."
    )
    digest: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]+:[a-fA-F0-9]{32,}$",
        description="Content digest of the model artifact, e.g. `sha256:<hex>`.",
    )


class Documentation(_Model):
    """References (URIs) to the system's documentation (ISO/IEC 42001 A.6.2.7, A.8.2)."""

    technical_doc_ref: str | None = Field(default=None, description="Technical documentation.")
    model_card_ref: str | None = Field(default=None, description="Model card.")
    instructions_for_use_ref: str | None = Field(default=None, description="Instructions for use for deployers.")


class Lifecycle(_Model):
    """Life-cycle stage and review cadence (ISO/IEC 42001 A.6, clause 8.2)."""

    stage: LifecycleStage = Field(
        description="Current stage; `retired` blocks all workloads, `design` shows as Draft until records exist."
    )
    review_interval_days: int | None = Field(
        default=None, ge=1, description="How often the impact assessment is reviewed, in days."
    )


class Check(_Model):
    """A drift or quality check: a PromQL query compared with a threshold."""

    name: str = Field(max_length=63, pattern=DNS_LABEL_PATTERN, description="Check name, unique per system.")
    query: str = Field(min_length=1, description="PromQL expression returning one sample.")
    comparator: Comparator = Field(description="How the value is compared with `threshold`; true is a breach.")
    threshold: float = Field(description="The value the query result is compared with.")
    for_: str = Field(
        default="0s",
        alias="for",
        pattern=DURATION_PATTERN,
        description="How long a breach must hold before the action, e.g. `2m` (Prometheus `for`). Default 0s.",
    )
    on_missing_data: OnMissingData = Field(
        default=OnMissingData.ALERT, description="What to do when the query returns nothing. Default alert."
    )
    action: CheckAction = Field(default=CheckAction.ALERT, description="What a sustained breach does. Default alert.")

    @property
    def hold(self) -> timedelta:
        """The `for` duration."""
        return parse_duration(self.for_)


class Monitoring(_Model):
    """Post-deployment monitoring (ISO/IEC 42001 A.6.2.6, EU AI Act Art. 26(5))."""

    interval_seconds: int = Field(
        default=60, ge=10, le=86400, description="Seconds between evaluations of the checks. Default 60."
    )
    checks: list[Check] = Field(
        default_factory=list, description="The checks to evaluate.", json_schema_extra=_list_map("name")
    )


class Classification(_Model):
    """The EU AI Act classification record (Art. 6, 49, 50; ISO/IEC 42001 A.5.2)."""

    roles: list[OperatorRole] = Field(
        min_length=1, description="The organisation's role(s) for the system, e.g. `provider`.", json_schema_extra=_SET
    )
    rationale: str = Field(min_length=1, description="Why the system has its risk tier (Art. 6, Annex III).")
    article6_exemption: Article6Exemption | None = Field(
        default=None,
        description="The Art. 6(3) condition claimed for an Annex III system that is not high-risk "
        "(the rationale is the Art. 6(4) documentation).",
    )
    transparency_disclosure_ref: str | None = Field(
        default=None, description="Evidence (URI) of the Art. 50 disclosure, where Art. 50 applies."
    )
    general_purpose_model: str | None = Field(
        default=None, description="The general-purpose AI model the system is built on, if any (Art. 53)."
    )
    eu_database_id: str | None = Field(
        default=None,
        description="The EU database registration ID (Art. 49); required of a provider in the tiers that "
        "require the classification.",
    )


class ControlImplementation(_Model):
    """How this system implements one ISO/IEC 42001 Annex A control."""

    id: ControlId = Field(description="Annex A control ID, e.g. `A.6.2.5`.")
    status: ControlStatus = Field(description="Implementation status.")
    evidence: str | None = Field(default=None, description="Where the evidence is (URI or short note).")


class AISystemSpec(_Model):
    """What the system's team declares about it (usually through GitOps)."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "!has(self.lifecycle) || self.lifecycle.stage != 'production' || has(self.owner)",
                "a system in production must name an owner (ISO/IEC 42001 A.3.2)",
            )
        )
    )

    display_name: str | None = Field(default=None, description="Human-friendly name.")
    purpose: str = Field(min_length=1, description="The intended purpose of the system (ISO/IEC 42001 A.9.4).")
    risk_tier: RiskTier = Field(description="EU AI Act risk tier; `prohibited` systems may never run.")
    owner: Contact | None = Field(default=None, description="The team or person that owns the system.")
    accountable_executive: Contact | None = Field(
        default=None, description="The executive accountable for the system (ISO/IEC 42001 A.3.2)."
    )
    human_oversight: list[Contact] = Field(
        default_factory=list,
        description="People who oversee the system in operation (EU AI Act Art. 14).",
        json_schema_extra=_ATOMIC,
    )
    models: list[ModelRef] = Field(
        default_factory=list, description="The models the system serves.", json_schema_extra=_ATOMIC
    )
    images: list[str] = Field(
        default_factory=list,
        description="Container images this system may run; high-risk systems must pin them by digest.",
        json_schema_extra=_SET,
    )
    documentation: Documentation | None = Field(default=None, description="Documentation references.")
    classification: Classification | None = Field(
        default=None, description="EU AI Act classification record; required by tiers with `requireClassification`."
    )
    lifecycle: Lifecycle | None = Field(default=None, description="Life-cycle stage and review cadence.")
    monitoring: Monitoring | None = Field(default=None, description="Drift and quality checks.")
    controls: list[ControlImplementation] = Field(
        default_factory=list,
        description="Statement of Applicability: Annex A controls and their status, one entry per control.",
        json_schema_extra=_list_map("id"),
    )


# --- status --------------------------------------------------------------------------------------


class ImpactAssessment(_Model):
    """The AI system impact assessment record (ISO/IEC 42001 A.5.2, A.5.3; clause 6.1.4)."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "self.status != 'completed' || (has(self.expiresAt) && self.expiresAt > self.completedAt)",
                "a completed assessment needs expiresAt later than completedAt",
            )
        )
    )

    status: AssessmentStatus = Field(description="Outcome of the assessment.")
    assessor: str = Field(min_length=1, description="Who assessed (the Kubernetes user who recorded it).")
    completed_at: Timestamp = Field(description="When the assessment was completed.")
    expires_at: Timestamp | None = Field(default=None, description="When the assessment must be redone.")
    reference: str | None = Field(default=None, description="URI of the assessment document.")
    sha256: str | None = Field(
        default=None, pattern=r"^[a-f0-9]{64}$", description="SHA-256 of the assessment document (hex)."
    )
    residual_risk: ResidualRisk | None = Field(default=None, description="Residual risk accepted.")
    risk_tier: RiskTier | None = Field(
        default=None,
        description=(
            "EU AI Act risk tier of the system when it was assessed (its spec.riskTier then). A completed "
            "assessment made for another tier than the system's current one is stale and no longer counts "
            "(AIGOV_ASSESSMENT_STALE): a tier change sends the system back to assessment. Absent on records "
            "written before this field existed; those are judged on status and expiry alone."
        ),
    )


class Approval(_Model):
    """One approval decision; the list is append-only and an approver's last entry counts."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            (
                "self.decision != 'approved' || (has(self.expiresAt) && self.expiresAt > self.decidedAt)",
                "an approval needs expiresAt later than decidedAt",
            )
        )
    )

    approver: str = Field(min_length=1, description="Who decided (the Kubernetes user who recorded it).")
    role: str | None = Field(default=None, description="The approver's governance role, e.g. `risk-officer`.")
    decision: ApproverDecision = Field(description="`approved`, or `revoked` to withdraw this approver's approval.")
    decided_at: Timestamp = Field(description="When the decision was made.")
    expires_at: Timestamp | None = Field(default=None, description="When an approval stops counting.")
    images: list[str] = Field(
        default_factory=list,
        description="The images approved: a snapshot of spec.images at approval time.",
        json_schema_extra=_ATOMIC,
    )
    justification: str | None = Field(default=None, description="Why the approver decided so.")
    spec_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="`aigov.core.digests.spec_hash` of the spec approved; the approval stops counting when the "
        "current spec's differs. Absent on older approvals (which then cover images only).",
    )
    assessment_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="The sha256 of the impact assessment document approved."
    )


class Condition(_Model):
    """A Kubernetes-style condition."""

    type: str = Field(min_length=1, description="Condition type, e.g. `Ready`.")
    status: ConditionStatus = Field(description="`True`, `False` or `Unknown`.")
    reason: str = Field(max_length=1024, pattern=REASON_PATTERN, description="CamelCase reason.")
    message: str = Field(default="", max_length=32768, description="Human-readable detail.")
    last_transition_time: Timestamp = Field(description="When the status last changed.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation this condition was computed from."
    )


class WorkloadReplicas(_Model):
    """A workload's replica count before suspension, to restore on resume."""

    api_version: str = Field(description="Workload API version, e.g. `apps/v1`.")
    kind: str = Field(description="Workload kind, e.g. `Deployment`.")
    name: str = Field(description="Workload name.")
    replicas: int = Field(ge=0, description="Replicas before suspension (1 running, 0 stopped for kinds without).")
    stop: str | None = Field(
        default=None,
        description="How the operator stopped it: `scale` (replicas 0), `suspend` (spec.suspend), `annotation` "
        "(serving.kserve.io/stop), `nodeSelector` (aigov.io/stopped, no node matches) or `delete` (a bare Pod).",
    )
    pod: dict[str, Any] | None = Field(
        default=None,
        description="A deleted bare Pod's labels, annotations and spec, re-created from here on resume.",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )


class Suspension(_Model):
    """A suspension (EU AI Act Art. 14(4)(e) stop procedure; ISO/IEC 42001 A.6.2.6)."""

    active: bool = Field(description="Whether the system is suspended now.")
    since: Timestamp | None = Field(default=None, description="When the suspension began.")
    reason: str | None = Field(default=None, description="Why, e.g. `CheckBreached`, `NoData` or `Manual`.")
    suspended_by: str | None = Field(default=None, description="Who suspended (user, or the operator).")
    check: str | None = Field(default=None, description="The monitoring check that triggered it, if any.")
    value: float | None = Field(default=None, description="The check's value when it triggered.")
    previous_replicas: list[WorkloadReplicas] = Field(
        default_factory=list,
        description="Replica counts to restore on resume.",
        json_schema_extra=_ATOMIC,
    )
    resumed_at: Timestamp | None = Field(default=None, description="When the system was resumed.")
    resumed_by: str | None = Field(default=None, description="Who resumed it.")
    justification: str | None = Field(default=None, description="Why it was resumed.")


class Retirement(_Model):
    """An approver's decision to retire the system: its workloads may not run, and it may then be deleted."""

    retired_by: str = Field(min_length=1, description="Who retired it (the approver who recorded it).")
    retired_at: Timestamp = Field(description="When it was retired.")
    justification: str = Field(min_length=1, description="Why it was retired.")


class BoundWorkload(_Model):
    """A workload labelled with this system's name."""

    api_version: str = Field(description="Workload API version.")
    kind: str = Field(description="Workload kind.")
    name: str = Field(description="Workload name.")
    images: list[str] = Field(
        default_factory=list, description="Images of the workload's containers.", json_schema_extra=_ATOMIC
    )


class ExpiryWarning(_Model):
    """A record inside the warning window that a Warning Event announced (so it is announced once)."""

    reason: str = Field(description="`AssessmentExpiring` or `ApprovalExpiring`.")
    subject: str = Field(description="The record's assessor or approver.")
    expires_at: Timestamp = Field(description="When the record expires.")


class CheckStatus(_Model):
    """The evaluation state of one monitoring check."""

    name: str = Field(description="The check's name in spec.monitoring.checks.")
    state: CheckState = Field(description="Where the check stands.")
    last_value: float | None = Field(default=None, description="The last value the query returned.")
    last_evaluated_at: Timestamp | None = Field(default=None, description="When the check last ran.")
    breaching_since: Timestamp | None = Field(default=None, description="Start of the current breach.")
    consecutive_errors: int = Field(default=0, ge=0, description="Query errors in a row (errors are not breaches).")
    last_error: str | None = Field(default=None, description="The last query error.")


class MonitoringStatus(_Model):
    """State of the monitoring checks, kept by the operator."""

    checks: list[CheckStatus] = Field(
        default_factory=list, description="One entry per check.", json_schema_extra=_list_map("name")
    )


_DERIVED = (
    "phase",
    "conditions",
    "observed_generation",
    "approved_count",
    "next_expiry",
    "expiry_warnings",
    "bound_workloads",
    "monitoring",
)


class AISystemStatus(_Model):
    """Governance records (written by people through the status subresource) and the operator's view."""

    @property
    def assessment_records(self) -> list[ImpactAssessment]:
        """Every impact assessment on record, oldest first: the legacy single record, then the list."""
        legacy = [self.impact_assessment] if self.impact_assessment is not None else []
        return [*legacy, *self.assessments]

    impact_assessment: ImpactAssessment | None = Field(
        default=None,
        description=(
            "The impact assessment record of earlier releases, read-only now: read as the first entry of "
            "`assessments`. New assessments are appended to `assessments`."
        ),
    )
    assessments: list[ImpactAssessment] = Field(
        default_factory=list,
        description=(
            "Impact assessments, append-only; an assessor's last entry is the one that counts. The system is "
            "assessed when no assessor's last entry is a rejection and the last entry is completed, unexpired "
            "and made for the current risk tier."
        ),
        json_schema_extra=_ATOMIC,
    )
    approvals: list[Approval] = Field(
        default_factory=list,
        description="Approval decisions, append-only; an approver's last entry is the one that counts.",
        json_schema_extra=_ATOMIC,
    )
    phase: Phase | None = Field(default=None, description="Governance phase, computed by the operator.")
    conditions: list[Condition] = Field(
        default_factory=list, description="Conditions, computed by the operator.", json_schema_extra=_list_map("type")
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation the operator last evaluated."
    )
    approved_count: int | None = Field(
        default=None, ge=0, description="Distinct approvers whose last entry is an unexpired approval."
    )
    next_expiry: Timestamp | None = Field(
        default=None, description="The earliest expiry of the assessment or a valid approval."
    )
    suspension: Suspension | None = Field(default=None, description="The current or last suspension.")
    retirement: Retirement | None = Field(
        default=None,
        description="The approver's retirement record; final. A system holding records is deleted only once retired.",
    )
    suspension_history: list[Suspension] = Field(
        default_factory=list, description="Earlier, resumed suspensions (oldest first).", json_schema_extra=_ATOMIC
    )
    bound_workloads: list[BoundWorkload] = Field(
        default_factory=list,
        description=f"Workloads in the namespace labelled with this system's name ({KIND} inventory).",
        json_schema_extra=_list_map("apiVersion", "kind", "name"),
    )
    expiry_warnings: list[ExpiryWarning] = Field(
        default_factory=list,
        description="Records expiring within the warning window that the operator has warned about.",
        json_schema_extra=_ATOMIC,
    )
    monitoring: MonitoringStatus | None = Field(default=None, description="Monitoring check states.")

    @field_validator(*_DERIVED, mode="wrap")
    @classmethod
    def _recomputed_fields_never_fail(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        """Fields the operator recomputes read as their default when a stored value does not parse."""
        try:
            return handler(value)
        except ValidationError:
            assert info.field_name is not None
            return cls.model_fields[info.field_name].get_default(call_default_factory=True)


# --- the resource --------------------------------------------------------------------------------


class ObjectMeta(_Model):
    """The parts of Kubernetes object metadata aigov reads; the rest is kept as is."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    resource_version: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class AISystem(_Model):
    """An AI system under ISO/IEC 42001 governance: declared by its team, approved by people."""

    api_version: str = Field(default=API_VERSION, description="`aigov.io/v1alpha1`.")
    kind: str = Field(default=KIND, description="`AISystem`.")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: AISystemSpec = Field(description="What the system's team declares.")
    status: AISystemStatus = Field(default_factory=AISystemStatus, description="Records and operator state.")
