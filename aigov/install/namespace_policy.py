"""Who may relax a namespace's enforcement: a ValidatingAdmissionPolicy on namespaces, rendered once.

The label `aigov.io/enforcement` decides whether the webhook reviews a namespace at
all (`off` takes it out of the webhook's `namespaceSelector`). Anyone with rights to
patch namespaces could otherwise switch aigov off; this policy lets only the groups
in `Identity.enforcement_admin_groups` set, change or remove the label. Setting it to
`enforce`, the strictest mode, stays open to everyone: it can only tighten.
Creating a namespace with the label counts as setting it.

The policy runs as CEL inside the API server, so it needs no aigov process and binds
`system:masters` too (which is why that group is in the default admin list: the
break-glass identity can still switch a namespace `off` in an outage). Every change of
the label, allowed or not, is written to the API server's audit log as the annotation
``aigov-namespace-enforcement/change``; the audit deployable counts namespaces per mode
(`aigov_namespaces`) and an alert fires when one leaves `enforce`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aigov.core.config import Config, EnforcementMode

POLICY_NAME = "aigov-namespace-enforcement"


@dataclass(frozen=True)
class Rule:
    """One rule of the policy: it refuses the request when `violated` (CEL) is true."""

    code: str
    violated: str
    message: str
    """A CEL string expression: what was refused and how to go on."""


def _cel_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def _variables(config: Config) -> list[tuple[str, str]]:
    label = json.dumps(config.enforcement_label)
    groups = _cel_list(config.identity.enforcement_admin_groups)
    return [
        ("old", f"oldObject == null ? optional.none() : oldObject.metadata.?labels[?{label}]"),
        ("new", f"object.metadata.?labels[?{label}]"),
        ("changed", "variables.old != variables.new"),
        ("isAdmin", f"request.userInfo.?groups.orValue([]).exists(g, g in {groups})"),
        ("shown", "[variables.old, variables.new].map(v, v.hasValue() ? \"'\" + v.value() + \"'\" : 'unset')"),
    ]


def rules(config: Config) -> tuple[Rule, ...]:
    """The rules, in the order their messages are reported."""
    label, enforce = config.enforcement_label, EnforcementMode.ENFORCE.value
    modes = [mode.value for mode in EnforcementMode]
    admins = ", ".join(config.identity.enforcement_admin_groups)
    return (
        Rule(
            "AIGOV_ENFORCEMENT_ADMIN_ONLY",
            f"variables.changed && !variables.isAdmin && variables.new.orValue('') != '{enforce}'",
            f"'AIGOV_ENFORCEMENT_ADMIN_ONLY: only members of {admins} may set, change or remove the label {label} "
            "(here ' + variables.shown[0] + ' -> ' + variables.shown[1] + ', requested by ' + "
            "request.userInfo.username + '); anyone may set it to enforce. Ask an enforcement admin (docs/install.md)'",
        ),
        Rule(
            "AIGOV_ENFORCEMENT_VALUE",
            f"variables.changed && variables.new.hasValue() && !(variables.new.value() in {_cel_list(tuple(modes))})",
            f"'AIGOV_ENFORCEMENT_VALUE: the label {label} is ' + variables.shown[1] + '; use one of "
            f"{', '.join(modes)}'",
        ),
    )


def policy(config: Config) -> dict[str, Any]:
    """The ValidatingAdmissionPolicy on namespace creates and updates."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_NAME, "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["namespaces"],
                        "operations": ["CREATE", "UPDATE"],
                    }
                ]
            },
            "variables": [{"name": name, "expression": expression} for name, expression in _variables(config)],
            "validations": [
                {"expression": f"!({rule.violated})", "messageExpression": rule.message, "reason": "Forbidden"}
                for rule in rules(config)
            ],
            "auditAnnotations": [
                {
                    "key": "change",
                    "valueExpression": "variables.changed ? request.userInfo.username + ': ' + "
                    "variables.shown[0] + ' -> ' + variables.shown[1] : ''",
                }
            ],
        },
    }


def binding() -> dict[str, Any]:
    """The binding that makes the policy deny, and audit-log its refusals."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY_NAME, "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {"policyName": POLICY_NAME, "validationActions": ["Deny", "Audit"]},
    }


def manifests(config: Config) -> list[dict[str, Any]]:
    """The policy and its binding."""
    return [policy(config), binding()]
