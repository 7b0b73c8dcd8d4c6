"""End-to-end fixtures: a real kube-apiserver calling the aigov webhook over TLS, with a real OPA.

The webhook configuration and the record policy are cluster-wide and fail
closed, so these tests get their own control plane (overriding the session
`kube`): the integration tests' cluster never sees them. The webhook runs as a
subprocess (`aigov webhook`) with certificates from `aigov.pki`, as its own
least-privilege user, and is registered with `url: https://127.0.0.1:PORT`.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigov.config import Config
from aigov.devcluster import LOOPBACK, ControlPlane, OpaServer, Server, User, free_port, start_opa
from aigov.pki import CertificateAuthority
from aigov.webhook.registration import Registration, UrlClient, manifests, webhook_cluster_role
from tests.e2e.objects import OPERATOR, OWNER_EMAIL

REPO = Path(__file__).resolve().parents[2]
AIGOV = Path(sys.executable).parent / "aigov"
TESTDATA = Path(__file__).parent / "testdata"


def write_pair(cert_file: Path, key_file: Path) -> bytes:
    """Issue a serving pair from a fresh CA, replace the files atomically (as a Secret update does); the CA PEM."""
    ca = CertificateAuthority(f"aigov-webhook-ca-{time.monotonic_ns()}")
    pair = ca.serving((LOOPBACK, "localhost"))
    for path, data in ((key_file, pair.key_pem), (cert_file, pair.cert_pem)):
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return ca.pair.cert_pem


@dataclass
class Webhook:
    """A running `aigov webhook` and the OPA it uses."""

    server: Server
    opa: OpaServer
    port: int
    metrics_port: int
    workdir: Path
    ca_pem: bytes

    @property
    def url(self) -> str:
        """Base URL of the admission server."""
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def cert_file(self) -> Path:
        """The serving certificate the webhook follows."""
        return self.workdir / "tls.crt"

    @property
    def key_file(self) -> Path:
        """The serving key the webhook follows."""
        return self.workdir / "tls.key"

    def client(self) -> httpx.Client:
        """An HTTPS client that trusts the webhook's current CA."""
        return httpx.Client(base_url=self.url, verify=ssl.create_default_context(cadata=self.ca_pem.decode()))

    def rotate(self) -> None:
        """Replace the serving pair on disk with one from a new CA."""
        self.ca_pem = write_pair(self.cert_file, self.key_file)

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until /readyz answers 200."""
        deadline = time.monotonic() + timeout
        last = ""
        with self.client() as client:
            while time.monotonic() < deadline:
                self.server.check_alive()
                try:
                    response = client.get("/readyz", timeout=2)
                    if response.status_code == 200:
                        return
                    last = response.text
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.2)
        raise AssertionError(f"webhook not ready after {timeout}s ({last}); log:\n{self.server.log_tail(40)}")

    def metrics(self) -> str:
        """The plain-HTTP /metrics text."""
        return httpx.get(f"http://{LOOPBACK}:{self.metrics_port}/metrics", timeout=5).text

    def stop(self) -> None:
        """Stop the webhook, then its OPA."""
        self.server.stop()
        self.opa.server.stop()


def start_webhook(kube: ControlPlane, workdir: Path) -> Webhook:
    """Start OPA and `aigov webhook` (as the user `aigov-webhook`) and wait until it is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    identity = kube.user("aigov-webhook")
    cert, key = workdir / "tls.crt", workdir / "tls.key"
    ca_pem = write_pair(cert, key)
    port, metrics_port = free_port(), free_port()
    opa = start_opa(workdir / "opa")
    server = Server.start(
        "webhook",
        [
            AIGOV, "webhook", "--cert", cert, "--key", key, "--host", LOOPBACK, "--port", str(port),
            "--metrics-port", str(metrics_port), "--opa-url", opa.url, "--kubeconfig", identity.kubeconfig,
        ],
        workdir,
    )  # fmt: skip
    webhook = Webhook(server, opa, port, metrics_port, workdir, ca_pem)
    try:
        webhook.wait_ready()
    except BaseException:
        webhook.stop()
        raise
    return webhook


def apply_json(kube: ControlPlane, *objects: dict[str, Any]) -> None:
    """`kubectl apply` objects as the admin."""
    kube.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def register(kube: ControlPlane, webhook: Webhook, name: str = "aigov", only: dict[str, str] | None = None) -> None:
    """Register `webhook` as configuration `name`; `only` narrows it to namespaces with these labels."""
    vwc = manifests(Registration(UrlClient(webhook.url, webhook.ca_pem)), Config())[-1]
    vwc["metadata"]["name"] = name
    if only:
        for hook in vwc["webhooks"]:
            hook["name"] = f"{name}.{hook['name']}"
            hook["namespaceSelector"]["matchLabels"] = only
    apply_json(kube, vwc)


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of the end-to-end tests' own (overrides the shared one)."""
    with ControlPlane(tmp_path_factory.mktemp("e2e-controlplane")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def aigov_cluster(kube: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    """CRDs (aigov's and a minimal KServe one), the webhook running and registered, the record policy bound."""
    kube.kubectl("apply", "--server-side", "-f", str(REPO / "crds"), "-f", str(TESTDATA / "kserve-crd.yaml"))
    kube.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/aisystems.aigov.io")
    kube.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/inferenceservices.serving.kserve.io")
    role = webhook_cluster_role()
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "aigov-webhook"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "aigov-webhook"},
        "subjects": [{"kind": "User", "name": "aigov-webhook", "apiGroup": "rbac.authorization.k8s.io"}],
    }
    apply_json(kube, role, binding)
    webhook = start_webhook(kube, tmp_path_factory.mktemp("webhook"))
    try:
        apply_json(kube, *manifests(Registration(UrlClient(webhook.url, webhook.ca_pem)), Config())[:2])
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
    apply_json(kube, role, binding)
    return People(
        alice=kube.user("alice", ("aigov:assessors",)),
        dora=kube.user("dora", ("aigov:assessors", "aigov:approvers")),
        bob=kube.user("bob", ("aigov:approvers",)),
        carol=kube.user("carol", ("aigov:approvers",)),
        owner=kube.user(OWNER_EMAIL, ("aigov:approvers",)),
        eve=kube.user("eve", ("aigov:test-others",)),
        operator=kube.user(OPERATOR),
    )
