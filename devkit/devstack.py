"""The whole aigov stack on a local control plane: CRDs, OPA, webhook, operator, registration.

The one way to bring aigov up against `devkit.devcluster.ControlPlane`, for
`make demo`, the benchmarks and the end-to-end tests. The webhook and the
operator run as subprocesses under their own least-privilege identities
(client certificates named like the service accounts a cluster would give
them), and the webhook is registered with `url: https://127.0.0.1:PORT` and a
CA bundle, never a Service.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aigov.core.config import Config
from aigov.install import exception_policy, namespace_policy
from aigov.install.admission import Registration, UrlClient, manifests
from aigov.install.archive_policy import archive_policy, archive_policy_binding
from aigov.install.management_policy import management_policy, management_policy_binding
from aigov.install.nonconformity_policy import nonconformity_policy, nonconformity_policy_binding
from aigov.install.pki import CertificateAuthority
from aigov.install.rbac import (
    OPERATOR_NAME,
    cluster_role,
    cluster_role_binding,
    people_cluster_roles,
    webhook_cluster_role,
)
from aigov.operator.environment import operator_env
from devkit.devcluster import LOOPBACK, ControlPlane, OpaServer, Server, User, free_port, start_opa, wait_until

REPO = Path(__file__).resolve().parents[1]
AIGOV = Path(sys.executable).parent / "aigov"
WEBHOOK_USER = "aigov-webhook"
CRDS = ("aisystems.aigov.io", "aisystemarchives.aigov.io", "clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev")


def apply(cluster: ControlPlane, *objects: dict[str, Any]) -> None:
    """`kubectl apply` objects as the admin."""
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def user_binding(role: str, username: str, name: str | None = None) -> dict[str, Any]:
    """A ClusterRoleBinding of `role` to the user `username`."""
    binding = cluster_role_binding({"kind": "User", "name": username, "apiGroup": "rbac.authorization.k8s.io"}, role)
    binding["metadata"]["name"] = name or role
    return binding


def install_crds(cluster: ControlPlane) -> None:
    """Apply the committed CRDs and wait until they are served."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    for crd in CRDS:
        cluster.wait_established(crd)


def write_serving_pair(cert_file: Path, key_file: Path) -> bytes:
    """Issue a serving pair for 127.0.0.1 from a fresh CA and replace the files atomically; the CA's PEM."""
    ca = CertificateAuthority(f"aigov-webhook-ca-{time.monotonic_ns()}")
    pair = ca.serving((LOOPBACK, "localhost"))
    for path, data in ((key_file, pair.key_pem), (cert_file, pair.cert_pem)):
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.chmod(0o600)
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
        """Replace the serving pair on disk with one from a new CA (as a rotated Secret would)."""
        self.ca_pem = write_serving_pair(self.cert_file, self.key_file)

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until /readyz answers 200."""
        with self.client() as probe:
            wait_until(self.server, probe, f"{self.url}/readyz", timeout)

    def metrics(self) -> str:
        """The plain-HTTP /metrics text."""
        return httpx.get(f"http://{LOOPBACK}:{self.metrics_port}/metrics", timeout=5).text

    def registration(self, config: Config) -> list[dict[str, Any]]:
        """The record policy, its binding and the webhook configuration pointing at this webhook."""
        return manifests(Registration(UrlClient(self.url, self.ca_pem)), config)

    def stop(self) -> None:
        """Stop the webhook, then its OPA."""
        self.server.stop(timeout=20)
        self.opa.server.stop()


def start_webhook(cluster: ControlPlane, workdir: Path, *flags: str) -> Webhook:
    """Start OPA (the shipped bundle, as in the chart) and `aigov webhook` as `aigov-webhook` (with `flags`);
    return once ready.

    The user needs the webhook's ClusterRole (`grant_webhook`).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    cert, key = workdir / "tls.crt", workdir / "tls.key"
    ca_pem = write_serving_pair(cert, key)
    opa = start_opa(workdir / "opa")
    port, metrics_port = free_port(), free_port()
    server = Server.start(
        "webhook",
        [
            AIGOV, "webhook", "--cert", cert, "--key", key, "--host", LOOPBACK, "--port", str(port),
            "--metrics-host", LOOPBACK, "--metrics-port", str(metrics_port), "--opa-url", opa.url,
            "--kubeconfig", cluster.user(WEBHOOK_USER).kubeconfig, *flags,
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


def grant_webhook(cluster: ControlPlane) -> None:
    """The webhook's least-privilege ClusterRole, bound to its user."""
    apply(cluster, webhook_cluster_role(WEBHOOK_USER), user_binding(WEBHOOK_USER, WEBHOOK_USER))


def start_operator(kubeconfig: Path, workdir: Path, *flags: str, name: str = "operator") -> Server:
    """Start `aigov operator` with `flags` as the identity in `kubeconfig`, in the chart's environment
    (`aigov.operator.environment`); return once its liveness answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    liveness = f"http://{LOOPBACK}:{free_port()}/healthz"
    argv: list[str | Path] = [AIGOV, "operator", f"--kubeconfig={kubeconfig}", f"--liveness={liveness}", *flags]
    server = Server.start(name, argv, workdir, operator_env())
    try:
        with httpx.Client() as probe:
            wait_until(server, probe, liveness, 60)
    except BaseException:
        server.stop()
        raise
    return server


@dataclass
class Stack:
    """aigov running against a control plane."""

    cluster: ControlPlane
    webhook: Webhook
    operator: Server
    operator_metrics_port: int

    def person(self, name: str, *roles: str, groups: tuple[str, ...] = ()) -> User:
        """A client-certificate user in `groups`, bound to the ready-made ClusterRoles `roles`."""
        apply(self.cluster, *(user_binding(role, name, f"{role}-{name}") for role in roles))
        return self.cluster.user(name, groups)

    def stop(self) -> None:
        """Stop the operator and the webhook with its OPA (the control plane is the caller's)."""
        self.operator.stop(timeout=20)
        self.webhook.stop()


_PROBE = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "aigov-enforcement-probe", "namespace": "default"},
    "spec": {"containers": [{"name": "probe", "image": "vllm/vllm-openai:latest"}]},
}


def _wait_enforcing(cluster: ControlPlane, timeout: float = 30) -> None:
    """Wait until the API server calls the new webhook: a dry-run ungoverned model Pod is denied."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(_PROBE), check=False)
        if "AIGOV_UNGOVERNED" in result.stderr:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the API server did not call the aigov webhook within {timeout:.0f}s")


def start_stack(
    cluster: ControlPlane, workdir: Path, config: Config | None = None, prometheus_url: str | None = None
) -> Stack:
    """Install and start aigov on `cluster`; returns once the webhook is ready and registered.

    The namespace enforcement policy is bound first, so no namespace can be switched off unnoticed.

    With `prometheus_url` the operator runs the AISystems' drift checks against it.
    """
    config = config or Config()
    install_crds(cluster)
    operator_name = config.identity.operator_usernames[0]
    grant_webhook(cluster)
    apply(cluster, cluster_role(), user_binding(OPERATOR_NAME, operator_name), *people_cluster_roles())
    webhook = start_webhook(cluster, workdir / "webhook")
    try:
        metrics_port = free_port()
        operator = start_operator(
            cluster.user(operator_name).kubeconfig,
            workdir / "operator",
            f"--metrics-host={LOOPBACK}",
            f"--metrics-port={metrics_port}",
            *([f"--prometheus-url={prometheus_url}"] if prometheus_url else []),
        )
    except BaseException:
        webhook.stop()
        raise
    stack = Stack(cluster, webhook, operator, metrics_port)
    try:
        apply(
            cluster,
            *exception_policy.manifests(config),
            *namespace_policy.manifests(config),
            *webhook.registration(config),
            management_policy(config),
            management_policy_binding(),
            nonconformity_policy(config),
            nonconformity_policy_binding(),
            archive_policy(config),
            archive_policy_binding(),
        )
        _wait_enforcing(cluster)
    except BaseException:
        stack.stop()
        raise
    return stack
