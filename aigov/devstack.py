"""The whole aigov stack on a local control plane: CRDs, OPA, webhook, operator, registration.

One way to bring aigov up against `aigov.devcluster.ControlPlane`, for `make demo`
and the end-to-end tests. The webhook and the operator run as subprocesses
under their own least-privilege identities (client certificates named like the
service accounts a cluster would give them), and the webhook is registered with
`url: https://127.0.0.1:PORT` and a CA bundle, never a Service.
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

from aigov.config import Config
from aigov.devcluster import LOOPBACK, ControlPlane, OpaServer, Server, User, free_port, start_opa, wait_until
from aigov.pki import CertificateAuthority
from aigov.rbac import OPERATOR_NAME, cluster_role, cluster_role_binding, people_cluster_roles
from aigov.webhook.registration import Registration, UrlClient, manifests, webhook_cluster_role

REPO = Path(__file__).resolve().parents[1]
AIGOV = Path(sys.executable).parent / "aigov"
WEBHOOK_USER = "aigov-webhook"
CRDS = ("aisystems.aigov.io", "clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev")


def apply(cluster: ControlPlane, *objects: dict[str, Any]) -> None:
    """`kubectl apply` objects as the admin."""
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def _user_binding(role: str, username: str) -> dict[str, Any]:
    return cluster_role_binding({"kind": "User", "name": username, "apiGroup": "rbac.authorization.k8s.io"}, role)


def install_crds(cluster: ControlPlane) -> None:
    """Apply the committed CRDs and wait until they are served."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    for crd in CRDS:
        cluster.kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{crd}")


@dataclass
class Stack:
    """aigov running against a control plane."""

    cluster: ControlPlane
    opa: OpaServer
    webhook: Server
    operator: Server
    webhook_port: int
    metrics_port: int
    operator_metrics_port: int
    ca_pem: bytes

    @property
    def webhook_url(self) -> str:
        """The webhook's HTTPS base URL."""
        return f"https://{LOOPBACK}:{self.webhook_port}"

    def person(self, name: str, *roles: str, groups: tuple[str, ...] = ()) -> User:
        """A client-certificate user in `groups`, bound to the ready-made ClusterRoles `roles`."""
        apply(self.cluster, *(_user_binding(role, name) | {"metadata": {"name": f"{role}-{name}"}} for role in roles))
        return self.cluster.user(name, groups)

    def stop(self) -> None:
        """Stop the operator, the webhook and OPA (the control plane is the caller's)."""
        for server in (self.operator, self.webhook, self.opa.server):
            server.stop(timeout=20)


def _wait_ready(webhook: Server, url: str, ca_pem: bytes, timeout: float = 60) -> None:
    context = ssl.create_default_context(cadata=ca_pem.decode())
    with httpx.Client(verify=context) as probe:
        wait_until(webhook, probe, f"{url}/readyz", timeout)


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

    With `prometheus_url` the operator runs the AISystems' drift checks against it.
    """
    config = config or Config()
    workdir.mkdir(parents=True, exist_ok=True)
    install_crds(cluster)
    operator_name = config.identity.operator_usernames[0]
    apply(
        cluster,
        webhook_cluster_role(WEBHOOK_USER),
        _user_binding(WEBHOOK_USER, WEBHOOK_USER),
        cluster_role(),
        _user_binding(OPERATOR_NAME, operator_name),
        *people_cluster_roles(),
    )
    ca = CertificateAuthority("aigov-webhook-ca")
    serving = ca.serving((LOOPBACK, "localhost"))
    cert, key = workdir / "tls.crt", workdir / "tls.key"
    cert.write_bytes(serving.cert_pem)
    key.write_bytes(serving.key_pem)
    key.chmod(0o600)

    opa = start_opa(workdir / "opa")
    port, metrics_port, operator_metrics = free_port(), free_port(), free_port()
    webhook = Server.start(
        "webhook",
        [
            AIGOV, "webhook", "--cert", cert, "--key", key, "--host", LOOPBACK, "--port", str(port),
            "--metrics-port", str(metrics_port), "--opa-url", opa.url,
            "--kubeconfig", cluster.user(WEBHOOK_USER).kubeconfig,
        ],
        workdir,
    )  # fmt: skip
    liveness = f"http://{LOOPBACK}:{free_port()}/healthz"
    operator = Server.start(
        "operator",
        [
            AIGOV, "operator", f"--kubeconfig={cluster.user(operator_name).kubeconfig}",
            f"--liveness={liveness}", f"--metrics-host={LOOPBACK}", f"--metrics-port={operator_metrics}",
            *([f"--prometheus-url={prometheus_url}"] if prometheus_url else []),
        ],
        workdir,
    )  # fmt: skip
    stack = Stack(cluster, opa, webhook, operator, port, metrics_port, operator_metrics, ca.pair.cert_pem)
    try:
        _wait_ready(webhook, stack.webhook_url, stack.ca_pem)
        with httpx.Client() as probe:
            wait_until(operator, probe, liveness, 60)
        apply(cluster, *manifests(Registration(UrlClient(stack.webhook_url, stack.ca_pem)), config))
        _wait_enforcing(cluster)
    except BaseException:
        stack.stop()
        raise
    return stack
