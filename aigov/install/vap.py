"""The shape every aigov ValidatingAdmissionPolicy on a status subresource shares, and its binding."""

from __future__ import annotations

from typing import Any

from aigov.core.config import GROUP


def validation(expression: str, message: str) -> dict[str, str]:
    """One CEL validation that refuses with `message` (Forbidden) when `expression` is false."""
    return {"expression": expression, "message": message, "reason": "Forbidden"}


def status_policy(
    name: str, plural: str, variables: list[tuple[str, str]], validations: list[dict[str, str]]
) -> dict[str, Any]:
    """A fail-closed policy on UPDATEs of `<plural>/status` in aigov's group."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [GROUP],
                        "apiVersions": ["*"],
                        "resources": [f"{plural}/status"],
                        "operations": ["UPDATE"],
                    }
                ]
            },
            "variables": [{"name": n, "expression": e} for n, e in variables],
            "validations": validations,
        },
    }


def policy_binding(name: str) -> dict[str, Any]:
    """The binding that makes policy `name` deny."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }
