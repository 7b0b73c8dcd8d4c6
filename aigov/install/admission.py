"""The admission objects that put aigov in the API server's path, rendered once.

Both the local setup (tests, `make demo`) and the Helm chart render them from
here, from the same `Config`:

- `ValidatingWebhookConfiguration` ``aigov``: workloads go to ``/validate``, failing
  closed (`Registration.failure_policy`), only when they can matter: the pre-filter
  (`prefilter`, CEL `matchConditions`) keeps ordinary workloads away from the webhook;
  in strict namespaces (``aigov.io/scope=ai``, whose labels CEL cannot see) a second
  entry sends every workload. AISystems (and status writes appending an impact
  assessment) go to ``/validate-aisystem``, which only warns and so ignores failures:
  an outage must not block editing them. kube-system, aigov's own namespace and
  namespaces labelled ``aigov.io/enforcement=off`` are left alone.
- `ValidatingAdmissionPolicy` ``aigov-record-integrity`` and its binding: the
  identity rules of the governance records in ``aisystems/status``, as CEL inside the
  API server. They bind every write, the operator's included, and keep working
  when the webhook is down; docs/records.md explains the rules and the choice.

The operator's service account is exempted by `matchConditions` where a webhook
outage would otherwise block its safety actions: scaling to zero or setting a stop
field of the kinds table (suspend, stop annotation, stop node selector) during a
suspension, and kopf's metadata writes on AISystems.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aigov.core.config import ENFORCEMENT_LABEL, GROUP, PLURAL, Config, EnforcementMode
from aigov.core.model import AISystemStatus, Suspension
from aigov.core.workloads import StopMethod, WorkloadKind
from aigov.install import prefilter, vap

NAME = "aigov"
POLICY_NAME = "aigov-record-integrity"
WORKLOADS_PATH = "/validate"
AISYSTEMS_PATH = "/validate-aisystem"
WORKLOADS_WEBHOOK = f"workloads.{GROUP}"
STRICT_WORKLOADS_WEBHOOK = f"strict-workloads.{GROUP}"
AISYSTEMS_WEBHOOK = f"{PLURAL}.{GROUP}"
# The AISystem hook only warns (policies/aigov/admission/aisystem.rego).
AISYSTEMS_FAILURE_POLICY = "Ignore"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# Of the status writes, the AISystem hook sees only those recording a new impact assessment
# (its sha256 is checked for placeholders); suspensions and approvals never wait for it.
NEW_ASSESSMENT = {
    "name": "status-write-records-an-assessment",
    "expression": "!has(request.subResource) || request.subResource != 'status' "
    "|| object.?status.?assessments.orValue([]).size() > oldObject.?status.?assessments.orValue([]).size()",
}

# Status fields people write; everything else in status is the operator's.
HUMAN_STATUS_FIELDS = ("impactAssessment", "assessments", "approvals", "suspension", "retirement")
# Fields of status.suspension that people write when they suspend or resume.
HUMAN_SUSPENSION_FIELDS = ("active", "since", "reason", "suspendedBy", "resumedAt", "resumedBy", "justification")


@dataclass(frozen=True)
class UrlClient:
    """Reach the webhook at a URL (local setup: always https://127.0.0.1:PORT)."""

    base_url: str
    ca_bundle: bytes


@dataclass(frozen=True)
class ServiceClient:
    """Reach the webhook through a Service (the Helm chart); no CA when cert-manager injects it."""

    namespace: str
    name: str
    port: int = 443
    ca_bundle: bytes | None = None


@dataclass(frozen=True)
class Registration:
    """Where the webhook is and how the API server treats it (`failure_policy`: the workloads' hook)."""

    client: UrlClient | ServiceClient
    timeout_seconds: int = 3
    failure_policy: str = "Fail"
    aigov_namespace: str = "aigov-system"
    excluded_namespaces: tuple[str, ...] = ("kube-system",)

    def __post_init__(self) -> None:
        if not 1 <= self.timeout_seconds <= 30:
            raise ValueError("timeout_seconds must be between 1 and 30")
        if self.failure_policy not in ("Fail", "Ignore"):
            raise ValueError("failure_policy must be Fail or Ignore")


def _client_config(client: UrlClient | ServiceClient, path: str) -> dict[str, Any]:
    if isinstance(client, UrlClient):
        return {"url": client.base_url.rstrip("/") + path, "caBundle": base64.b64encode(client.ca_bundle).decode()}
    config: dict[str, Any] = {
        "service": {"namespace": client.namespace, "name": client.name, "path": path, "port": client.port}
    }
    if client.ca_bundle:
        config["caBundle"] = base64.b64encode(client.ca_bundle).decode()
    return config


def _cel_list(values: Iterable[str]) -> str:
    """A CEL list literal of strings (JSON string syntax is valid CEL)."""
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def reviewed_resources(kinds: Iterable[WorkloadKind]) -> dict[str, tuple[str, ...]]:
    """(API group -> resources) the workloads' hook receives: every kind of the table, its `scale`
    subresource where it has one, and ephemeral containers added to Pods."""
    groups: dict[str, list[str]] = defaultdict(list)
    for kind in kinds:
        groups[kind.group].append(kind.resource)
        if kind.scale:
            groups[kind.group].append(f"{kind.resource}/scale")
        if (kind.group, kind.kind) == ("", "Pod"):
            groups[kind.group].append(f"{kind.resource}/ephemeralcontainers")
    return {group: tuple(resources) for group, resources in groups.items()}


def _rules(groups: Iterable[tuple[str, tuple[str, ...]]]) -> list[dict[str, Any]]:
    return [
        {
            "apiGroups": [group],
            "apiVersions": ["*"],
            "resources": list(resources),
            "operations": ["CREATE", "UPDATE"],
            "scope": "Namespaced",
        }
        for group, resources in groups
    ]


def _webhook(
    name: str,
    reg: Registration,
    path: str,
    rules: list[dict[str, Any]],
    conditions: list[dict[str, str]],
    *,
    failure_policy: str,
    namespaces: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    excluded = sorted({*reg.excluded_namespaces, reg.aigov_namespace})
    return {
        "name": name,
        "clientConfig": _client_config(reg.client, path),
        "rules": rules,
        "failurePolicy": failure_policy,
        "matchPolicy": "Equivalent",
        "sideEffects": "None",
        "timeoutSeconds": reg.timeout_seconds,
        "admissionReviewVersions": ["v1"],
        "namespaceSelector": {
            "matchExpressions": [
                {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": excluded},
                {"key": ENFORCEMENT_LABEL, "operator": "NotIn", "values": [EnforcementMode.OFF.value]},
                *namespaces,
            ]
        },
        "matchConditions": conditions,
    }


def _stop_fields(kinds: Iterable[WorkloadKind]) -> list[str]:
    """CEL tests that an object's stop field (suspend, stop annotation, stop node selector) is set, from the table."""
    tests = set()
    for kind in kinds:
        path, value = kind.stop_field(), kind.stop_value
        if not path or value is None:
            continue
        keyed = kind.stop in (StopMethod.ANNOTATION, StopMethod.NODE_SELECTOR)
        parents = path[:-1] if keyed else path
        cel = "object" + "".join(f".?{segment}" for segment in parents)
        if keyed:
            cel += f"[?{json.dumps(path[-1])}]"
        default = "false" if value is True else "''"
        tests.add(f"{cel}.orValue({default}) == {json.dumps(value)}")
    return sorted(tests)


def webhook_configuration(reg: Registration, config: Config) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration: workloads (pre-filtered, and unfiltered in strict namespaces), AISystems."""
    operator = f"request.userInfo.username in {_cel_list(config.identity.operator_usernames)}"
    stops = " || ".join(
        ["(has(object.spec) && has(object.spec.replicas) && object.spec.replicas == 0)", *_stop_fields(config.kinds)]
    )
    safety = [{"name": "not-operator-safety-write", "expression": f"!({operator} && ({stops}))"}]
    rules = _rules(reviewed_resources(config.kinds).items())
    d = config.detection
    strict = {"key": d.strict_namespace_label, "operator": "In", "values": [d.strict_namespace_value]}
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/name": "aigov"}},
        "webhooks": [
            _webhook(
                WORKLOADS_WEBHOOK,
                reg,
                WORKLOADS_PATH,
                rules,
                [*safety, *prefilter.match_conditions(config)],
                failure_policy=reg.failure_policy,
                namespaces=[strict | {"operator": "NotIn"}],
            ),
            _webhook(
                STRICT_WORKLOADS_WEBHOOK,
                reg,
                WORKLOADS_PATH,
                rules,
                safety,
                failure_policy=reg.failure_policy,
                namespaces=[strict],
            ),
            _webhook(
                AISYSTEMS_WEBHOOK,
                reg,
                AISYSTEMS_PATH,
                _rules([(GROUP, (PLURAL, f"{PLURAL}/status"))]),
                [{"name": "not-operator-safety-write", "expression": f"!({operator})"}, NEW_ASSESSMENT],
                failure_policy=AISYSTEMS_FAILURE_POLICY,
            ),
        ],
    }


def _aliases(model: type[AISystemStatus] | type[Suspension]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _changed(path: str) -> str:
    return f"object.?status{path} != oldObject.?status{path}"


# The latest time OPA represents (nanoseconds since 1970 in an int64): a record expiring later
# cannot be judged alike by the policies and the operator.
LATEST_EXPIRY = "2262-04-11T23:47:16Z"


def _append_only(name: str, field: str) -> list[tuple[str, str]]:
    """Variables `old<Name>`, `new<Name>`, `<name>Kept` and `<name>Added` of an append-only status list."""
    cap = name[0].upper() + name[1:]
    old, new = f"variables.old{cap}", f"variables.new{cap}"
    return [
        (f"old{cap}", f"oldObject.?status.?{field}.orValue([])"),
        (f"new{cap}", f"object.?status.?{field}.orValue([])"),
        (f"{name}Kept", f"size({new}) >= size({old}) && {new}.slice(0, size({old})) == {old}"),
        (f"{name}Added", f"variables.{name}Kept ? {new}.slice(size({old}), size({new})) : []"),
    ]


def _overlong(entry: str, start: str, tier: str, limits: str) -> str:
    """CEL: `entry` expires further than its tier's maximum after `start`, or past what OPA represents."""
    expires = f"timestamp(string({entry}.expiresAt))"
    term = f"duration(string({limits}[?{tier}].orValue(366) * 24) + 'h')"
    return (
        f"({entry}.?expiresAt.hasValue() && ({expires} > timestamp('{LATEST_EXPIRY}') || "
        f"{expires} - timestamp(string({entry}.{start})) > {term}))"
    )


def _record_variables(config: Config) -> list[tuple[str, str]]:
    """(name, CEL) pairs; `violations` collects one message per broken rule."""
    identity = config.identity
    operator_paths = [f".?{field}" for field in _aliases(AISystemStatus) if field not in HUMAN_STATUS_FIELDS] + [
        f".?suspension.?{field}" for field in _aliases(Suspension) if field not in HUMAN_SUSPENSION_FIELDS
    ]
    changed_operator_fields = " + ".join(
        f"({_changed(path)} ? [{json.dumps(path.replace('.?', '.')[1:])}] : [])" for path in operator_paths
    )
    return [
        ("user", "request.userInfo.username"),
        ("groups", "request.userInfo.?groups.orValue([])"),
        ("isOperator", f"variables.user in {_cel_list(identity.operator_usernames)}"),
        ("isAssessor", f"variables.groups.exists(g, g in {_cel_list(identity.assessor_groups)})"),
        ("isApprover", f"variables.groups.exists(g, g in {_cel_list(identity.approver_groups)})"),
        ("legacyChanged", _changed(".?impactAssessment")),
        *_append_only("assessments", "assessments"),
        *_append_only("approvals", "approvals"),
        ("added", "variables.approvalsAdded"),
        (
            "conflicted",
            "([object.spec.?owner.?name.orValue(''), object.spec.?owner.?email.orValue(''), "
            "object.?status.?impactAssessment.?assessor.orValue('')] + "
            "variables.newAssessments.map(a, a.assessor)).filter(n, n != '').map(n, n.lowerAscii())",
        ),
        ("maxApprovalDays", json.dumps({t: r.max_approval_days for t, r in config.tiers.items()})),
        ("maxAssessmentDays", json.dumps({t: r.max_assessment_days for t, r in config.tiers.items()})),
        (
            "overlongApprovals",
            "variables.added.filter(a, "
            + _overlong("a", "decidedAt", "object.spec.riskTier", "variables.maxApprovalDays")
            + ")",
        ),
        (
            "overlongAssessments",
            "variables.assessmentsAdded.filter(a, "
            + _overlong("a", "completedAt", "a.?riskTier.orValue(object.spec.riskTier)", "variables.maxAssessmentDays")
            + ")",
        ),
        ("changedOperatorFields", changed_operator_fields),
        ("suspensionChanged", _changed(".?suspension")),
        ("retirementChanged", _changed(".?retirement")),
        (
            "retirementRecorded",
            "object.?status.?retirement.?retiredBy.orValue('') == variables.user && "
            "object.?status.?retirement.?retiredAt.hasValue() && "
            "object.?status.?retirement.?justification.orValue('') != ''",
        ),
        (
            "foreignSuspension",
            " || ".join(
                f"({_changed(path)} && object.?status{path}.orValue(variables.user) != variables.user)"
                for path in (".?suspension.?suspendedBy", ".?suspension.?resumedBy")
            ),
        ),
        ("roleGroups", json.dumps({role: list(groups) for role, groups in identity.role_groups.items()})),
        (
            "ungranted",
            "variables.added.filter(a, a.?role.orValue('') in variables.roleGroups && "
            "!variables.roleGroups[a.role].exists(g, g in variables.groups))",
        ),
        ("wasSuspended", "oldObject.?status.?suspension.?active.orValue(false) == true"),
        ("stillSuspended", "object.?status.?suspension.?active.orValue(false) == true"),
        (
            "resumeRecorded",
            "object.?status.?suspension.?resumedBy.orValue('') == variables.user && "
            "object.?status.?suspension.?resumedAt.hasValue() && "
            "object.?status.?suspension.?justification.orValue('') != ''",
        ),
        ("violations", _violations(config)),
        (
            "holdsRecords",
            "oldObject.?status.?impactAssessment.hasValue() || size(variables.oldAssessments) > 0 || "
            "size(variables.oldApprovals) > 0 "
            "|| oldObject.?status.?suspension.hasValue() || "
            "size(oldObject.?status.?suspensionHistory.orValue([])) > 0",
        ),
    ]


def _violations(config: Config) -> str:
    identity = config.identity
    assessors, approvers = ", ".join(identity.assessor_groups), ", ".join(identity.approver_groups)
    rules = [
        (
            "variables.isOperator && (variables.legacyChanged || variables.newAssessments != variables.oldAssessments "
            "|| variables.newApprovals != variables.oldApprovals || variables.retirementChanged)",
            "'AIGOV_OPERATOR_FIELD: the aigov operator (' + variables.user + ') may not write impactAssessment, "
            "assessments, approvals or retirement; only assessors and approvers record them'",
        ),
        (
            "!variables.isOperator && size(variables.changedOperatorFields) > 0",
            "'AIGOV_OPERATOR_FIELD: status field(s) ' + variables.changedOperatorFields.join(', ') + "
            "' are written by the aigov operator only; write only assessments, approvals or the "
            "suspend/resume fields of suspension'",
        ),
        (
            "!variables.isOperator && size(variables.assessmentsAdded) > 0 && !variables.isAssessor",
            f"'AIGOV_NOT_ASSESSOR: ' + variables.user + ' is not in an assessor group ({assessors}); "
            "ask an assessor to record the impact assessment'",
        ),
        (
            "!variables.isOperator && variables.assessmentsAdded.exists(a, a.assessor != variables.user)",
            "'AIGOV_ASSESSOR_MISMATCH: a new assessments entry names ' + "
            "variables.assessmentsAdded.filter(a, a.assessor != variables.user)[0].assessor + "
            "' but the request comes from ' + variables.user + '; assessors record their own assessment "
            "(kubectl aigov assess)'",
        ),
        (
            "!variables.isOperator && variables.assessmentsAdded.exists(a, !a.?riskTier.hasValue())",
            "'AIGOV_ASSESSMENT_TIER_MISSING: a new assessments entry names no riskTier; record the risk tier "
            "assessed (spec.riskTier, as kubectl aigov assess does)'",
        ),
        (
            "!variables.isOperator && variables.legacyChanged",
            "'AIGOV_RECORD_IMMUTABLE: status.impactAssessment is read-only (kept from earlier releases); "
            "append a new entry to status.assessments instead (kubectl aigov assess)'",
        ),
        (
            "!variables.assessmentsKept",
            "'AIGOV_RECORD_IMMUTABLE: status.assessments is append-only; existing entries cannot be changed, "
            "reordered or removed (a later entry by the same assessor supersedes theirs)'",
        ),
        (
            "!variables.isOperator && size(variables.overlongApprovals) > 0",
            "'AIGOV_EXPIRY_TOO_LONG: the approval by ' + variables.overlongApprovals[0].approver + ' expires at ' + "
            "string(variables.overlongApprovals[0].expiresAt) + ', more than ' + "
            "string(variables.maxApprovalDays[?object.spec.riskTier].orValue(366)) + ' days (maxApprovalDays of "
            f"tier ' + object.spec.riskTier + ') after decidedAt, or after {LATEST_EXPIRY}; approve again with a "
            "shorter --expires'",
        ),
        (
            "!variables.isOperator && size(variables.overlongAssessments) > 0",
            "'AIGOV_EXPIRY_TOO_LONG: the assessment by ' + variables.overlongAssessments[0].assessor + "
            "' expires at ' + string(variables.overlongAssessments[0].expiresAt) + ', more than ' + "
            "string(variables.maxAssessmentDays[?variables.overlongAssessments[0].?riskTier.orValue("
            "object.spec.riskTier)].orValue(366)) + ' days (maxAssessmentDays of its tier) after completedAt, or "
            f"after {LATEST_EXPIRY}; assess again with a shorter --expires'",
        ),
        (
            "!variables.approvalsKept",
            "'AIGOV_RECORD_IMMUTABLE: status.approvals is append-only; existing entries cannot be changed, "
            "reordered or removed (append a decision: revoked entry to withdraw an approval)'",
        ),
        (
            "!variables.isOperator && variables.added.exists(a, a.approver != variables.user)",
            "'AIGOV_APPROVER_MISMATCH: a new approvals entry names ' + "
            "variables.added.filter(a, a.approver != variables.user)[0].approver + "
            "' but the request comes from ' + variables.user + '; approvers record their own decision "
            "(kubectl aigov approve)'",
        ),
        (
            "!variables.isOperator && (size(variables.added) > 0 || variables.suspensionChanged || "
            "variables.retirementChanged) && !variables.isApprover",
            f"'AIGOV_NOT_APPROVER: ' + variables.user + ' is not in an approver group ({approvers}); "
            "only approvers record approvals, suspend, resume or retire a system'",
        ),
        (
            "!variables.isOperator && variables.retirementChanged && oldObject.?status.?retirement.hasValue()",
            "'AIGOV_RECORD_IMMUTABLE: status.retirement is final; a retired system cannot be changed back or "
            "retired again (create a new AISystem to run the system again)'",
        ),
        (
            "!variables.isOperator && variables.retirementChanged && "
            "!oldObject.?status.?retirement.hasValue() && !variables.retirementRecorded",
            "'AIGOV_RETIREMENT_INCOMPLETE: a retirement records who, when and why: retiredBy ' + variables.user + "
            "', retiredAt and a non-empty justification (kubectl aigov retire NAME --justification \"...\")'",
        ),
        (
            "!variables.isOperator && variables.added.exists(a, a.approver.lowerAscii() in variables.conflicted)",
            "'AIGOV_SELF_APPROVAL: ' + variables.user + ' is the owner or the assessor of this AISystem and "
            "cannot approve it (separation of duties); ask another approver'",
        ),
        (
            "!variables.isOperator && size(variables.ungranted) > 0",
            "'AIGOV_ROLE_NOT_GRANTED: ' + variables.user + ' claims role ' + variables.ungranted[0].role + "
            "' but is in none of the groups that grant it (' + "
            "variables.roleGroups[variables.ungranted[0].role].join(', ') + '); approve without that role, or "
            "ask a holder of it'",
        ),
        (
            "!variables.isOperator && variables.wasSuspended && !variables.stillSuspended && !variables.resumeRecorded",
            "'AIGOV_RESUME_INCOMPLETE: lifting a suspension records who, when and why: set suspension.active "
            "false with resumedAt, resumedBy ' + variables.user + ' and a justification, and leave the record for "
            'the operator to archive (kubectl aigov resume NAME --justification "...")\'',
        ),
        (
            "!variables.isOperator && variables.foreignSuspension",
            "'AIGOV_APPROVER_MISMATCH: suspension.suspendedBy and suspension.resumedBy must name the requesting "
            "user ' + variables.user + ' (kubectl aigov suspend/resume)'",
        ),
    ]
    return " + ".join(f"({condition} ? [{message}] : [])" for condition, message in rules)


def record_policy(config: Config) -> dict[str, Any]:
    """The ValidatingAdmissionPolicy binding governance records in `aisystems/status` to identities."""
    return vap.policy(
        POLICY_NAME,
        [vap.resource_rule(f"{PLURAL}/status", "UPDATE"), vap.resource_rule(PLURAL, "DELETE")],
        _record_variables(config),
        [
            {
                "expression": "request.operation == 'DELETE' || size(variables.violations) == 0",
                "messageExpression": "variables.violations.join('; ')",
                "message": "aigov: this status write breaks a governance-record rule (see docs/records.md)",
                "reason": "Forbidden",
            },
            {
                "expression": "request.operation != 'DELETE' || !variables.holdsRecords || "
                "oldObject.?status.?retirement.?retiredBy.orValue('') != ''",
                "messageExpression": "'AIGOV_RECORDS_RETAINED: AISystem ' + oldObject.metadata.name + ' holds "
                "governance records (assessments, approvals or suspensions) and has not been retired by an "
                "approver; an approver retires it first (kubectl aigov retire ' + oldObject.metadata.name + "
                "' --justification \"...\"), so deleting it is a recorded decision (docs/records.md)'",
                "reason": "Forbidden",
            },
        ],
    )


def record_policy_binding() -> dict[str, Any]:
    """The binding that makes the record policy deny."""
    return vap.policy_binding(POLICY_NAME)


def manifests(reg: Registration, config: Config) -> list[dict[str, Any]]:
    """Everything to apply, policy first so records are bound before workloads are gated."""
    return [record_policy(config), record_policy_binding(), webhook_configuration(reg, config)]
