"""End-to-end fixtures: a real kube-apiserver calling the aigov webhook over TLS, with a real OPA.

The webhook configuration and the record policy are cluster-wide and fail
closed, so these tests get their own control plane (overriding the session
`kube`): the integration tests' cluster never sees them. The webhook starts
through `devkit.devstack` (a subprocess with certificates from `aigov.install.pki`, as its
own least-privilege user) and is registered with `url: https://127.0.0.1:PORT`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aigov.core.config import Config
from aigov.install import namespace_policy
from devkit.devcluster import ControlPlane, User
from devkit.devstack import Stack, Webhook, apply, grant_webhook, install_crds, start_stack, start_webhook
from tests.e2e.objects import OPERATOR, OWNER_EMAIL

TESTDATA = Path(__file__).parent / "testdata"


def register(kube: ControlPlane, webhook: Webhook, name: str = "aigov", only: dict[str, str] | None = None) -> None:
    """Register `webhook` as configuration `name`; `only` narrows it to namespaces with these labels."""
    vwc = webhook.registration(Config())[-1]
    vwc["metadata"]["name"] = name
    if only:
        for hook in vwc["webhooks"]:
            hook["name"] = f"{name}.{hook['name']}"
            hook["namespaceSelector"]["matchLabels"] = only
    apply(kube, vwc)


@contextlib.contextmanager
def own_stack(workdir: Path) -> Iterator[Stack]:
    """A control plane of its own with the whole aigov stack, for tests that break or load it."""
    with ControlPlane(workdir / "cluster") as cluster:
        stack = start_stack(cluster, workdir / "stack")
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of the end-to-end tests' own (overrides the shared one)."""
    with ControlPlane(tmp_path_factory.mktemp("e2e-controlplane")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def aigov_cluster(kube: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    """CRDs (aigov's and a minimal KServe one), the webhook running and registered, the record and namespace
    policies bound."""
    install_crds(kube)
    kube.kubectl("apply", "--server-side", "-f", str(TESTDATA / "kserve-crd.yaml"))
    kube.wait_established("inferenceservices.serving.kserve.io")
    grant_webhook(kube)
    webhook = start_webhook(kube, tmp_path_factory.mktemp("webhook"))
    try:
        apply(kube, *namespace_policy.manifests(Config()), *webhook.registration(Config())[:2])
        register(kube, webhook)
        yield webhook
    finally:
        webhook.stop()


@dataclass(frozen=True)
class People:
    """Client-certificate users with the groups the identity rules read."""

    alice: User  # assessor
    dora: User  # assessor and approver
    bob: User  # approver
    carol: User  # approver
    owner: User  # approver who owns the systems under test (spec.owner.email)
    eve: User  # no governance group
    operator: User  # the operator's service-account name, as a certificate


@pytest.fixture(scope="session")
def people(kube: ControlPlane, aigov_cluster: Webhook) -> People:
    """The users, and RBAC that lets them read AISystems and patch `aisystems/status` only."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "aigov-records-writer"},
        "rules": [
            {"apiGroups": ["aigov.io"], "resources": ["aisystems"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["aigov.io"], "resources": ["aisystems/status"], "verbs": ["get", "patch", "update"]},
        ],
    }
    subjects = [
        {"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}
        for group in ("aigov:assessors", "aigov:approvers", "aigov:test-others")
    ] + [{"kind": "User", "name": OPERATOR, "apiGroup": "rbac.authorization.k8s.io"}]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "aigov-records-writer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "aigov-records-writer"},
        "subjects": subjects,
    }
    apply(kube, role, binding)
    return People(
        alice=kube.user("alice", ("aigov:assessors",)),
        dora=kube.user("dora", ("aigov:assessors", "aigov:approvers")),
        bob=kube.user("bob", ("aigov:approvers", "aigov:risk-officers")),
        carol=kube.user("carol", ("aigov:approvers",)),
        owner=kube.user(OWNER_EMAIL, ("aigov:approvers",)),
        eve=kube.user("eve", ("aigov:test-others",)),
        operator=kube.user(OPERATOR),
    )
