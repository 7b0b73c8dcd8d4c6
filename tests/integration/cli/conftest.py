"""People against the real API server: client-certificate users, RBAC and the record-integrity policy.

The `ValidatingAdmissionPolicy` rendered by `aigov.install.admission` is bound,
under a name of its own, only to namespaces labelled `aigov-test/records=on` (the
ones `govern` makes), so other tests in the session may still write records as
the admin.

Users: `alice` and `bob` approve, `carol` assesses, `mallory` may patch status by
RBAC but is in no governance group, `ivan` is an auditor with read-only access.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aigov.cli.app import app
from aigov.core.config import Config
from aigov.install.admission import POLICY_NAME, record_policy
from aigov.install.rbac import people_cluster_roles
from devkit.devcluster import ControlPlane, User

REPO = Path(__file__).resolve().parents[3]
TEST_LABEL = "aigov-test/records"
POLICY = f"{POLICY_NAME}-cli-tests"
IMAGE = "vllm/vllm-openai@sha256:" + "4c" * 32


def apply(kube: ControlPlane, *objects: dict[str, Any], namespace: str | None = None) -> None:
    """`kubectl apply` of objects as the admin."""
    ns = ["-n", namespace] if namespace else []
    body = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    kube.kubectl("apply", *ns, "-f", "-", input=json.dumps(body))


@dataclass(frozen=True)
class People:
    """The cluster with the CRDs, the record policy and the test's users."""

    kube: ControlPlane
    alice: User
    bob: User
    carol: User
    mallory: User
    ivan: User


@pytest.fixture(scope="session")
def people(kube: ControlPlane) -> People:
    """CRDs, the record policy bound to labelled namespaces, the shipped people roles and client-certificate users."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    kube.wait_established("aisystems.aigov.io")
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY},
        "spec": {
            "policyName": POLICY,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {TEST_LABEL: "on"}}},
        },
    }
    policy = record_policy(Config())
    policy["metadata"]["name"] = POLICY
    apply(
        kube,
        policy,
        binding,
        *people_cluster_roles(),
        {**_binding("aigov-auditor-cluster", ["ivan"]), "kind": "ClusterRoleBinding"},
    )
    return People(
        kube=kube,
        alice=kube.user("alice", ("aigov:approvers", "aigov:risk-officers")),
        bob=kube.user("bob", ("aigov:approvers", "aigov:risk-officers")),
        carol=kube.user("carol", ("aigov:assessors",)),
        mallory=kube.user("mallory", ("staff",)),
        ivan=kube.user("ivan", ("auditors",)),
    )


def _binding(role: str, users: Sequence[str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in users],
    }


def system(name: str, tier: str = "limited", owner: str = "Team Chat", **spec: Any) -> dict[str, Any]:
    """An AISystem manifest with one digest-pinned image."""
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": name},
        "spec": {
            "purpose": "answers customer questions",
            "riskTier": tier,
            "owner": {"name": owner},
            "images": [IMAGE],
            "classification": {"roles": ["deployer"], "rationale": "Annex III(5)(b)"},
            **spec,
        },
    }


@pytest.fixture
def governed_namespace(people: People, namespace: str) -> str:
    """A fresh namespace under the record policy, with the people's RoleBindings."""
    return govern(people, namespace)


def govern(people: People, namespace: str) -> str:
    """Put `namespace` under the record policy and give the people their RoleBindings."""
    people.kube.kubectl("label", "namespace", namespace, f"{TEST_LABEL}=on")
    apply(
        people.kube,
        _binding("aigov-approver", ["alice", "bob", "mallory"]),
        _binding("aigov-assessor", ["carol"]),
        _binding("aigov-auditor", ["ivan"]),
        namespace=namespace,
    )
    _wait_for_policy(people, namespace)
    return namespace


def _wait_for_policy(people: People, namespace: str, timeout: float = 15.0) -> None:
    """Block until the record policy refuses a status write in `namespace` (policies take a moment to load)."""
    apply(people.kube, system("policy-probe"), namespace=namespace)
    patch = json.dumps(
        {"status": {"approvals": [{"approver": "x", "decision": "revoked", "decidedAt": "2026-01-01T00:00:00Z"}]}}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = people.kube.kubectl(
            "patch", "ais", "policy-probe", "-n", namespace, "--subresource=status", "--type=merge",
            "--dry-run=server", "-p", patch, check=False,
        )  # fmt: skip
        if "AIGOV_" in result.stderr:
            return
        time.sleep(0.2)
    raise AssertionError(f"the record policy does not act in {namespace} after {timeout:.0f}s")


def run(user: User | None, namespace: str | None, *args: str) -> Result:
    """`aigov ARGS [--kubeconfig <user's>] [-n namespace]`, in process."""
    extra = [*(["--kubeconfig", str(user.kubeconfig)] if user else []), *(["-n", namespace] if namespace else [])]
    return CliRunner().invoke(app, [*args, *extra])


def get(kube: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    """The AISystem as stored."""
    result: dict[str, Any] = json.loads(kube.kubectl("get", "ais", name, "-n", namespace, "-o", "json").stdout)
    return result
