"""Helm templates rendered from aigov's Python sources: the CRD, the admission objects, the RBAC.

Each object is rendered by the module that owns it with sentinel strings where
the chart has a value (release namespace, names, failure policy, identity
groups), dumped as YAML and the sentinels replaced by template expressions. A
sentinel left over is a bug, so rendering fails on one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from aigov.core.config import Config, ExceptionPolicy, Identity
from aigov.install import admission as registration
from aigov.install import crd, exception_policy, namespace_policy, rbac
from aigov.install.archive_policy import archive_policy as archive_policy_doc
from aigov.install.archive_policy import archive_policy_binding
from aigov.install.management_policy import management_policy as management_policy_doc
from aigov.install.management_policy import management_policy_binding
from aigov.install.nonconformity_policy import nonconformity_policy as nonconformity_policy_doc
from aigov.install.nonconformity_policy import nonconformity_policy_binding

Doc = dict[str, Any]

_S = "AIGOV_TPL_"
FULLNAME = '{{ include "aigov.fullname" . }}'
_NAMES = {
    f"{_S}NAME": FULLNAME,
    f"{_S}POLICY": f"{FULLNAME}-record-integrity",
    f"{_S}EXCEPTION_POLICY": f"{FULLNAME}-exception-records",
    f"{_S}MS_POLICY": f"{FULLNAME}-management-system-approvals",
    f"{_S}NC_POLICY": f"{FULLNAME}-nonconformity-closure",
    f"{_S}NS_POLICY": f"{FULLNAME}-namespace-enforcement",
    f"{_S}ARCHIVE_POLICY": f"{FULLNAME}-archive-integrity",
    f"{_S}SERVICE": f"{FULLNAME}-webhook",
    f"{_S}TLS_SECRET": f"{FULLNAME}-webhook-tls",
    f"{_S}NAMESPACE": "{{ .Release.Namespace }}",
}
# Numeric sentinels of the exception policy (Config validates them as integers).
_MAX_DAYS, _BREAK_GLASS_HOURS = 271, 71
_EXCEPTIONS = ".Values.config.exceptions"
_EXCEPTION_SUBSTITUTIONS = {
    f'["{_S}ON_CALL"]': f'{{{{ include "aigov.celList" {_EXCEPTIONS}.breakGlassGroups }}}}',
    f"{_S}ON_CALL": f'{{{{ join ", " {_EXCEPTIONS}.breakGlassGroups }}}}',
    f'["AIGOV_PROHIBITED", "{_S}NEVER"]': (
        f'{{{{ include "aigov.celList" (prepend {_EXCEPTIONS}.neverWaivable "AIGOV_PROHIBITED" | uniq) }}}}'
    ),
    f"duration('{_MAX_DAYS * 24}h')": f"duration('{{{{ mul {_EXCEPTIONS}.maxDays 24 }}}}h')",
    f"'{_MAX_DAYS} days'": f"'{{{{ {_EXCEPTIONS}.maxDays }}}} days'",
    f"duration('{_BREAK_GLASS_HOURS}h')": f"duration('{{{{ {_EXCEPTIONS}.breakGlassHours }}}}h')",
    f"'{_BREAK_GLASS_HOURS} hours'": f"'{{{{ {_EXCEPTIONS}.breakGlassHours }}}} hours'",
}


# Applied longest first: list forms before the names inside them, NAMESPACE before NAME.
_SUBSTITUTIONS = {
    f'["{_S}OPERATORS"]': '{{ include "aigov.operatorUsernames" . }}',
    f'["{_S}ASSESSORS"]': '{{ include "aigov.celList" .Values.config.identity.assessorGroups }}',
    f'["{_S}APPROVERS"]': '{{ include "aigov.celList" .Values.config.identity.approverGroups }}',
    f'["{_S}ENFORCEMENT_ADMINS"]': '{{ include "aigov.celList" .Values.config.identity.enforcementAdminGroups }}',
    f"{_S}ENFORCEMENT_ADMINS": '{{ join ", " .Values.config.identity.enforcementAdminGroups }}',
    f'["{_S}RETENTION_ADMINS"]': '{{ include "aigov.celList" .Values.config.identity.retentionAdminGroups }}',
    f"{_S}RETENTION_ADMINS": '{{ join ", " .Values.config.identity.retentionAdminGroups }}',
    f"{_S}ASSESSORS": '{{ join ", " .Values.config.identity.assessorGroups }}',
    f"{_S}APPROVERS": '{{ join ", " .Values.config.identity.approverGroups }}',
    f"{_S}EXCLUDED_LIST": '{{ include "aigov.excludedNamespaces" . }}',
    f"{_S}TIMEOUT": "{{ .Values.webhook.timeoutSeconds }}",
    **_EXCEPTION_SUBSTITUTIONS,
    **_NAMES,
}


class _Dumper(yaml.SafeDumper):
    """Block style, no anchors, long or quoted strings as literal blocks (CEL stays verbatim)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    literal = len(value) > 80 or "'" in value or '"' in value
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if literal else None)


_Dumper.add_representer(str, _str)


class TemplateError(RuntimeError):
    """A sentinel survived substitution: the source grew a value the chart does not template."""


def _yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=10_000, allow_unicode=True)


def _substitute(text: str) -> str:
    for sentinel, expression in sorted(_SUBSTITUTIONS.items(), key=lambda item: -len(item[0])):
        text = text.replace(sentinel, expression)
    if _S in text:
        line = next(line for line in text.splitlines() if _S in line)
        raise TemplateError(f"unreplaced sentinel in: {line.strip()}")
    return text


def _object(doc: Doc, name: str, metadata_extra: str = "", labels_extra: str = "") -> str:
    """`doc` as a template: templated metadata (`name` may hold sentinels), the rest dumped."""
    body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
    head = (
        f"apiVersion: {doc['apiVersion']}\nkind: {doc['kind']}\nmetadata:\n  name: {name}\n"
        '  labels:\n    {{- include "aigov.labels" . | nindent 4 }}\n' + labels_extra + metadata_extra
    )
    return _substitute("---\n" + head + _yaml(body))


def _sentinel_config() -> Config:
    return Config(
        identity=Identity(
            assessor_groups=(f"{_S}ASSESSORS",),
            approver_groups=(f"{_S}APPROVERS",),
            operator_usernames=(f"{_S}OPERATORS",),
            enforcement_admin_groups=(f"{_S}ENFORCEMENT_ADMINS",),
            retention_admin_groups=(f"{_S}RETENTION_ADMINS",),
        )
    )


def _sentinel_registration() -> registration.Registration:
    return registration.Registration(
        client=registration.ServiceClient(namespace=f"{_S}NAMESPACE", name=f"{_S}SERVICE"),
        aigov_namespace=f"{_S}NAMESPACE",
        excluded_namespaces=(f"{_S}EXCLUDED",),
    )


def _template_webhooks(vwc: Doc) -> Doc:
    excluded = sorted([f"{_S}EXCLUDED", f"{_S}NAMESPACE"])
    for webhook in vwc["webhooks"]:
        if webhook["name"] != registration.AISYSTEMS_WEBHOOK:
            webhook["failurePolicy"] = "Ignore"  # until a replica is ready and arms it (aigov.webhook.arming)
        webhook["timeoutSeconds"] = f"{_S}TIMEOUT"
        for expression in webhook["namespaceSelector"]["matchExpressions"]:
            if expression["values"] == excluded:
                expression["values"] = f"{_S}EXCLUDED_LIST"
    return vwc


CERT_MANAGER_ANNOTATION = (
    "  {{- if .Values.tls.certManager.enabled }}\n"
    "  annotations:\n"
    f"    cert-manager.io/inject-ca-from: {{{{ .Release.Namespace }}}}/{FULLNAME}-webhook\n"
    "  {{- end }}\n"
)


PREFILTER_VALUES = ("detection", "extraKinds", "systemLabel")
"""The values the pre-filter is generated from: it is rendered only while they keep their defaults."""


def _go_json(value: Any) -> str:
    """`value` as Helm's `toJson` writes it (sorted keys, no spaces, HTML characters escaped)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def prefilter_guard() -> str:
    """A template condition: the pre-filter's values are the defaults it was generated from."""
    defaults = Config().model_dump(mode="json", by_alias=True)
    digest = hashlib.sha256(_go_json({k: defaults[k] for k in PREFILTER_VALUES}).encode()).hexdigest()
    picked = " ".join(f'"{k}"' for k in PREFILTER_VALUES)
    return f'eq (pick .Values.config {picked} | toJson | sha256sum) "{digest}"'


def _guard_prefilter(text: str) -> str:
    """Wrap the workloads' pre-filter conditions in `prefilter_guard`: with a changed detection, kinds table or
    system label the chart's pre-filter would be stale (no longer a superset), so every workload is sent."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("  - name: ") and "scale-not-down" in line)
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("- name: "))
    lines[last:last] = ["  {{- end }}"]
    lines[first:first] = ["  {{- if " + prefilter_guard() + " }}"]
    return "\n".join(lines)


def admission() -> str:
    """templates/admission.yaml: the record-integrity policy and binding, then the webhook configuration."""
    config, reg = _sentinel_config(), _sentinel_registration()
    binding = registration.record_policy_binding()
    binding["spec"]["policyName"] = f"{_S}POLICY"
    vwc = _template_webhooks(registration.webhook_configuration(reg, config))
    return "".join(
        [
            _object(registration.record_policy(config), f"{_S}POLICY"),
            _object(binding, f"{_S}POLICY"),
            _guard_prefilter(_object(vwc, f"{_S}NAME", CERT_MANAGER_ANNOTATION)),
        ]
    )


def _kept_crd(doc: Doc) -> str:
    """A CRD template kept on uninstall (`helm.sh/resource-policy: keep`), behind `crds.install`."""
    keep = "  annotations:\n    helm.sh/resource-policy: keep\n"
    return "{{- if .Values.crds.install }}\n" + _object(doc, doc["metadata"]["name"], keep) + "{{- end }}\n"


def _policy_with_binding(policy: Doc, binding: Doc, name: str) -> str:
    """A ValidatingAdmissionPolicy and its binding, both named `name` (a template sentinel)."""
    binding["spec"]["policyName"] = name
    return _object(policy, name) + _object(binding, name)


def management_policy() -> str:
    """templates/management-policy.yaml: the AIManagementSystem approval policy and its binding."""
    return _policy_with_binding(
        management_policy_doc(_sentinel_config()), management_policy_binding(), f"{_S}MS_POLICY"
    )


def nonconformity_policy() -> str:
    """templates/nonconformity-policy.yaml: the Nonconformity closure policy and its binding."""
    return _policy_with_binding(
        nonconformity_policy_doc(_sentinel_config()), nonconformity_policy_binding(), f"{_S}NC_POLICY"
    )


def archive_policy() -> str:
    """templates/archive-policy.yaml: the AISystemArchive integrity policy and its binding."""
    return _policy_with_binding(archive_policy_doc(_sentinel_config()), archive_policy_binding(), f"{_S}ARCHIVE_POLICY")


def archive_crd() -> str:
    """templates/crd-aisystemarchives.yaml: the AISystemArchive CRD, kept on uninstall, behind `crds.install`."""
    return _kept_crd(crd.archive_crd())


def nonconformity_crd() -> str:
    """templates/crd-nonconformities.yaml: the Nonconformity CRD, kept on uninstall, behind `crds.install`."""
    return _kept_crd(crd.nonconformity_crd())


def management_system_crd() -> str:
    """templates/crd-aimanagementsystems.yaml: the AIManagementSystem CRD, kept on uninstall, behind `crds.install`."""
    return _kept_crd(crd.management_system_crd())


def namespace_enforcement() -> str:
    """templates/namespace-policy.yaml: who may relax a namespace's enforcement label, and its binding."""
    return _policy_with_binding(
        namespace_policy.policy(_sentinel_config()), namespace_policy.binding(), f"{_S}NS_POLICY"
    )


def aisystem_crd() -> str:
    """templates/crd-aisystems.yaml: the AISystem CRD, kept on uninstall, behind `crds.install`."""
    return _kept_crd(crd.aisystem_crd())


def exception_crd() -> str:
    """templates/crd-aigovexceptions.yaml: the AIGovException CRD, kept on uninstall, behind `crds.install`."""
    return _kept_crd(crd.exception_crd())


def exception_policy_template() -> str:
    """templates/exception-policy.yaml: the AIGovException record policy and its binding."""
    config = _sentinel_config().model_copy(
        update={
            "exceptions": ExceptionPolicy(
                max_days=_MAX_DAYS,
                break_glass_hours=_BREAK_GLASS_HOURS,
                break_glass_groups=(f"{_S}ON_CALL",),
                never_waivable=(f"{_S}NEVER",),
            )
        }
    )
    policy = exception_policy.exception_policy(config)
    rendered = json.dumps(policy)
    missing = [sentinel for sentinel in _EXCEPTION_SUBSTITUTIONS if sentinel.replace('"', '\\"') not in rendered]
    if missing:
        raise TemplateError(f"the exception policy no longer holds {missing[0]}")
    return _policy_with_binding(policy, exception_policy.exception_policy_binding(), f"{_S}EXCEPTION_POLICY")


def _rule(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None) -> Doc:
    rule: Doc = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def self_managed_tls_rules() -> tuple[list[Doc], list[Doc]]:
    """(namespaced, cluster) rules for a webhook that keeps its own CA: its Secret, its caBundle."""
    return (
        [_rule([""], ["secrets"], ["get", "update"], [f"{_S}TLS_SECRET"])],
        [
            _rule(
                ["admissionregistration.k8s.io"],
                ["validatingwebhookconfigurations"],
                ["get", "update", "patch"],
                [f"{_S}NAME"],
            )
        ],
    )


_ROLE_DESCRIPTIONS = {
    "approver": "Record approvals, revocations, suspensions and resumes (kubectl aigov approve/revoke/suspend/resume).",
    "assessor": "Record impact assessments (kubectl aigov assess).",
    "viewer": "Read AISystems and their governance records.",
    "auditor": "Read AISystems, their Events, the audit's reports and every workload kind aigov reviews "
    "(kubectl aigov evidence export).",
    "auditor-cluster": "Read the cluster-scoped parts of an evidence pack: the kube-system namespace's UID "
    "and the AIManagementSystem (bind cluster-wide to whoever exports).",
    "management-approver": "Approve revisions of the AIManagementSystem (bind cluster-wide; approver groups only).",
}
"""Annotations of the people's ClusterRoles (`aigov.install.rbac.people_cluster_roles`), by role."""

_VIEWER_AGGREGATION = (
    "    {{- if .Values.rbac.aggregateToView }}\n"
    '    rbac.authorization.k8s.io/aggregate-to-view: "true"\n'
    '    rbac.authorization.k8s.io/aggregate-to-edit: "true"\n'
    '    rbac.authorization.k8s.io/aggregate-to-admin: "true"\n'
    "    {{- end }}\n"
)


def _grant(kind: str, name: str, rules: list[Doc], service_account: str) -> str:
    """A Role or ClusterRole with `rules` and its binding to the component's ServiceAccount."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "rules": rules}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": f"{kind}Binding",
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": f"{_S}NAMESPACE"}],
    }
    return _object(role, name) + _object(binding, name)


def _people_role(doc: Doc) -> str:
    """A people's ClusterRole named `<release>-<role>`; the viewer aggregates into view, edit and admin."""
    role = doc["metadata"]["name"].removeprefix("aigov-")
    description = _ROLE_DESCRIPTIONS.get(role)
    annotations = f"  annotations:\n    aigov.io/description: {json.dumps(description)}\n" if description else ""
    labels = _VIEWER_AGGREGATION if role == "viewer" else ""
    return _object(doc, f"{_S}NAME-{role}", annotations, labels)


def rbac_template() -> str:
    """templates/rbac.yaml: per-component roles and bindings, the self-managed-TLS grants, the user roles."""
    webhook, operator = f"{_S}NAME-webhook", f"{_S}NAME-operator"
    namespaced_tls, cluster_tls = self_managed_tls_rules()
    return (
        _grant("ClusterRole", webhook, rbac.webhook_rules(configuration=f"{_S}NAME"), webhook)
        + "{{- if not .Values.tls.certManager.enabled }}\n"
        + _grant("Role", f"{_S}NAME-webhook-tls", namespaced_tls, webhook)
        + _grant("ClusterRole", f"{_S}NAME-webhook-tls", cluster_tls, webhook)
        + "{{- end }}\n"
        + _grant("ClusterRole", operator, rbac.operator_rules(clusterwide=True), operator)
        + "{{- if .Values.rbac.userRoles }}\n"
        + "".join(_people_role(doc) for doc in rbac.people_cluster_roles())
        + "{{- end }}\n"
        + "{{- if .Values.rbac.configReadableByAuthenticated }}\n"
        + _config_reader()
        + "{{- end }}\n"
    )


def _config_reader() -> str:
    """Every authenticated user may read the configuration ConfigMap (and nothing else in the namespace), so
    `kubectl aigov status` and `evidence export` judge with the cluster's tiers and labels, not the defaults."""
    name = f"{_S}NAME-config-reader"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "rules": [_rule([""], ["configmaps"], ["get"], [f"{_S}NAME-config"])],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}],
    }
    return _object(role, name) + _object(binding, name)


def audit_rbac_template() -> str:
    """templates/rbac-audit.yaml: the audit's ClusterRole and binding (`aigov.install.rbac.audit_rules`)."""
    audit = f"{_S}NAME-audit"
    return (
        "{{- if .Values.audit.enabled }}\n" + _grant("ClusterRole", audit, rbac.audit_rules(), audit) + "{{- end }}\n"
    )
