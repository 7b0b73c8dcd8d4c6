"""The shape every aigov ValidatingAdmissionPolicy on a status subresource shares, and its binding."""

from __future__ import annotations

from typing import Any

from aigov.core.config import GROUP


def validation(expression: str, message: str) -> dict[str, str]:
    """One CEL validation that refuses with `message` (Forbidden) when `expression` is false."""
    return {"expression": expression, "message": message, "reason": "Forbidden"}


def resource_rule(resource: str, *operations: str) -> dict[str, Any]:
    """A matchConstraints resource rule for `resource` of aigov's group (any version)."""
    return {"apiGroups": [GROUP], "apiVersions": ["*"], "resources": [resource], "operations": list(operations)}


def policy(
    name: str, rules: list[dict[str, Any]], variables: list[tuple[str, str]], validations: list[dict[str, str]]
) -> dict[str, Any]:
    """A fail-closed ValidatingAdmissionPolicy matching `rules`, with CEL `variables` and `validations`."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": rules},
            "variables": [{"name": n, "expression": e} for n, e in variables],
            "validations": validations,
        },
    }


def status_policy(
    name: str, plural: str, variables: list[tuple[str, str]], validations: list[dict[str, str]]
) -> dict[str, Any]:
    """A fail-closed policy on UPDATEs of `<plural>/status` in aigov's group."""
    return policy(name, [resource_rule(f"{plural}/status", "UPDATE")], variables, validations)


def policy_binding(name: str) -> dict[str, Any]:
    """The binding that makes policy `name` deny."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }
