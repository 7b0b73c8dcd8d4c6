"""The admission objects that put aigov in the API server's path, rendered once.

Both the local setup (tests, `make demo`) and the Helm chart render them from
here, from the same `Config`:

- `ValidatingWebhookConfiguration` ``aigov``: workloads go to ``/validate``, failing
  closed (`Registration.failure_policy`); AISystems (and status writes recording a new
  impact assessment) to ``/validate-aisystem``, which only warns and so ignores failures:
  an outage must not block editing them. kube-system, aigov's own namespace and namespaces
  labelled ``aigov.io/enforcement=off`` are left alone.
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
from aigov.install import vap

NAME = "aigov"
POLICY_NAME = "aigov-record-integrity"
WORKLOADS_PATH = "/validate"
AISYSTEMS_PATH = "/validate-aisystem"
WORKLOADS_WEBHOOK = f"workloads.{GROUP}"
AISYSTEMS_WEBHOOK = f"{PLURAL}.{GROUP}"
# The AISystem hook only warns (policies/aigov/admission/aisystem.rego).
AISYSTEMS_FAILURE_POLICY = "Ignore"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# Of the status writes, the AISystem hook sees only those recording a new impact assessment
# (its sha256 is checked for placeholders); suspensions and approvals never wait for it.
NEW_ASSESSMENT = {
    "name": "status-write-records-an-assessment",
    "expression": "!has(request.subResource) || request.subResource != 'status' "
    "|| (has(object.status) && has(object.status.impactAssessment) "
    "&& !(has(oldObject.status) && has(oldObject.status.impactAssessment) "
    "&& oldObject.status.impactAssessment == object.status.impactAssessment))",
}

# Status fields people write; everything else in status is the operator's.
HUMAN_STATUS_FIELDS = ("impactAssessment", "approvals", "suspension")
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
    skip: str,
    *,
    failure_policy: str,
    conditions: tuple[dict[str, str], ...] = (),
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
            ]
        },
        "matchConditions": [{"name": "not-operator-safety-write", "expression": skip}, *conditions],
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
    """The ValidatingWebhookConfiguration for workloads and AISystems."""
    operator = f"request.userInfo.username in {_cel_list(config.identity.operator_usernames)}"
    stops = " || ".join(
        ["(has(object.spec) && has(object.spec.replicas) && object.spec.replicas == 0)", *_stop_fields(config.kinds)]
    )
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/name": "aigov"}},
        "webhooks": [
            _webhook(
                WORKLOADS_WEBHOOK,
                reg,
                WORKLOADS_PATH,
                _rules(reviewed_resources(config.kinds).items()),
                f"!({operator} && ({stops}))",
                failure_policy=reg.failure_policy,
            ),
            _webhook(
                AISYSTEMS_WEBHOOK,
                reg,
                AISYSTEMS_PATH,
                _rules([(GROUP, (PLURAL, f"{PLURAL}/status"))]),
                f"!({operator})",
                failure_policy=AISYSTEMS_FAILURE_POLICY,
                conditions=(NEW_ASSESSMENT,),
            ),
        ],
    }


def _aliases(model: type[AISystemStatus] | type[Suspension]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _changed(path: str) -> str:
    return f"object.?status{path} != oldObject.?status{path}"


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
        ("assessment", "object.?status.?impactAssessment"),
        ("assessmentChanged", _changed(".?impactAssessment")),
        ("oldApprovals", "oldObject.?status.?approvals.orValue([])"),
        ("newApprovals", "object.?status.?approvals.orValue([])"),
        (
            "approvalsKept",
            "size(variables.newApprovals) >= size(variables.oldApprovals) && "
            "variables.newApprovals.slice(0, size(variables.oldApprovals)) == variables.oldApprovals",
        ),
        (
            "added",
            "variables.approvalsKept ? "
            "variables.newApprovals.slice(size(variables.oldApprovals), size(variables.newApprovals)) : []",
        ),
        (
            "conflicted",
            "[object.spec.?owner.?name.orValue(''), object.spec.?owner.?email.orValue(''), "
            "object.?status.?impactAssessment.?assessor.orValue('')].filter(n, n != '').map(n, n.lowerAscii())",
        ),
        ("changedOperatorFields", changed_operator_fields),
        ("suspensionChanged", _changed(".?suspension")),
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
            "oldObject.?status.?impactAssessment.hasValue() || size(oldObject.?status.?approvals.orValue([])) > 0 "
            "|| oldObject.?status.?suspension.hasValue() || "
            "size(oldObject.?status.?suspensionHistory.orValue([])) > 0",
        ),
    ]


def _violations(config: Config) -> str:
    identity = config.identity
    assessors, approvers = ", ".join(identity.assessor_groups), ", ".join(identity.approver_groups)
    rules = [
        (
            "variables.isOperator && (variables.assessmentChanged || variables.newApprovals != variables.oldApprovals)",
            "'AIGOV_OPERATOR_FIELD: the aigov operator (' + variables.user + ') may not write impactAssessment "
            "or approvals; only assessors and approvers record them'",
        ),
        (
            "!variables.isOperator && size(variables.changedOperatorFields) > 0",
            "'AIGOV_OPERATOR_FIELD: status field(s) ' + variables.changedOperatorFields.join(', ') + "
            "' are written by the aigov operator only; write only impactAssessment, approvals or the "
            "suspend/resume fields of suspension'",
        ),
        (
            "!variables.isOperator && variables.assessmentChanged && !variables.isAssessor",
            f"'AIGOV_NOT_ASSESSOR: ' + variables.user + ' is not in an assessor group ({assessors}); "
            "ask an assessor to record the impact assessment'",
        ),
        (
            "!variables.isOperator && variables.assessmentChanged && variables.assessment.hasValue() && "
            "variables.assessment.value().assessor != variables.user",
            "'AIGOV_ASSESSOR_MISMATCH: impactAssessment.assessor is ' + variables.assessment.value().assessor + "
            "' but the request comes from ' + variables.user + '; assessors record their own assessment "
            "(kubectl aigov assess)'",
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
            "!variables.isOperator && (size(variables.added) > 0 || variables.suspensionChanged) && "
            "!variables.isApprover",
            f"'AIGOV_NOT_APPROVER: ' + variables.user + ' is not in an approver group ({approvers}); "
            "only approvers record approvals and suspend or resume a system'",
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
                "oldObject.spec.?lifecycle.?stage.orValue('') == 'retired'",
                "messageExpression": "'AIGOV_RECORDS_RETAINED: AISystem ' + oldObject.metadata.name + ' holds "
                "governance records (assessment, approvals or suspensions) and is not retired; set "
                "spec.lifecycle.stage: retired first, so deleting it is a recorded decision (docs/records.md)'",
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
