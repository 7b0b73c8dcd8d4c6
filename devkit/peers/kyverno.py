"""Kyverno v1.19 as a benchmark peer: its admission controller out of cluster, with `ValidatingPolicy`s.

The policies are the ValidatingAdmissionPolicies of `devkit.peers.ungoverned_policies`
turned into Kyverno's `policies.kyverno.io/v1` ValidatingPolicies: the same match
constraints (kinds, namespace selector), variables and validations, so the same CEL
does the same work, only evaluated by Kyverno behind a webhook instead of in the API server.

`start_kyverno` runs the controller built by hack/peers (`cmd/kyverno`) against a
`ControlPlane` on loopback. Kyverno serves the pair it reads from its TLS Secret
(our own pair from `write_serving_pair`, its certificate manager disabled), but it
registers its webhooks itself: its webhook controller always reconciles
`kyverno-resource-validating-webhook-cfg` from the policies, so a registration of
ours would only duplicate it. With `--serverIP=127.0.0.1:<port>` that registration
is a `url:` client config to the loopback port it serves on; the failure policy is
the policy's (Fail), the namespace selector the policy's, the timeout `--webhookTimeout`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aigov.core.config import Config
from devkit import binaries
from devkit.devcluster import LOOPBACK, ControlPlane, Server, free_port, wait_until
from devkit.devstack import apply, write_serving_pair
from devkit.peers import Selector, ungoverned_policies

KYVERNO_NAMESPACE = "kyverno"
KYVERNO_WEBHOOKS = "kyverno-resource-validating-webhook-cfg"
KYVERNO_WEBHOOK = "vpol.validate.kyverno.svc-fail"
"""The webhook Kyverno registers for Fail ValidatingPolicies that share one namespace selector (as these do;
with several selectors it adds a digest per selector), as the API server's metrics label it."""
CA_SECRET = "kyverno-bench-ca"
TLS_SECRET = "kyverno-bench-tls"
DENIED = 400
"""The HTTP status of a request Kyverno's webhook denies (its AdmissionResponse carries code 400; the VAP's is 403)."""
TIMEOUT_SECONDS = 3
"""The webhook timeout, as Gatekeeper's and aigov's registrations."""


def kyverno_crds() -> Path:
    """Kyverno's CRDs, gathered by hack/peers from its module's config/crds."""
    override = os.environ.get("AIGOV_KYVERNO_CRDS")
    return Path(override) if override else binaries.find("kyverno").with_name("crds.yaml")


def validating_policies(config: Config, selector: Selector | None = None) -> list[dict[str, Any]]:
    """ValidatingPolicies doing what `ungoverned_policies`' ValidatingAdmissionPolicies do, expression for expression.

    Deny on failure, no background scans (admission only, as the VAP), no
    autogen of pod-controller rules (the policies name their kinds themselves).
    """
    policies = []
    for doc in ungoverned_policies(config, selector):
        if doc["kind"] != "ValidatingAdmissionPolicy":
            continue
        spec = doc["spec"] | {
            "validationActions": ["Deny"],
            "evaluation": {"admission": {"enabled": True}, "background": {"enabled": False}},
            "autogen": {"podControllers": {"controllers": []}},
        }
        policies.append(
            {
                "apiVersion": "policies.kyverno.io/v1",
                "kind": "ValidatingPolicy",
                "metadata": {"name": doc["metadata"]["name"]},
                "spec": spec,
            }
        )
    return policies


@dataclass
class Kyverno:
    """A running Kyverno admission controller."""

    server: Server
    port: int
    metrics_port: int
    ca_pem: bytes

    @property
    def url(self) -> str:
        """Base URL of the admission server."""
        return f"https://{LOOPBACK}:{self.port}"

    def webhook_url(self, cluster: ControlPlane) -> str:
        """The URL Kyverno registered for its ValidatingPolicies (to post AdmissionReviews straight to it)."""
        hook = _policy_webhook(cluster)
        if hook is None:
            raise RuntimeError(f"Kyverno has not registered {KYVERNO_WEBHOOK}")
        url: str = hook["clientConfig"]["url"]
        return url

    def stop(self) -> None:
        """Stop the controller."""
        self.server.stop(timeout=20)


def _policy_webhook(cluster: ControlPlane) -> dict[str, Any] | None:
    result = cluster.kubectl("get", "validatingwebhookconfiguration", KYVERNO_WEBHOOKS, "-o", "json", check=False)
    if result.returncode != 0:
        return None
    hooks = json.loads(result.stdout).get("webhooks") or []
    return next((h for h in hooks if h["name"] == KYVERNO_WEBHOOK), None)


def _secrets(ca_pem: bytes, cert: bytes, key: bytes) -> list[dict[str, Any]]:
    def encoded(data: bytes) -> str:
        return base64.b64encode(data).decode()

    meta = {"namespace": KYVERNO_NAMESPACE}
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta | {"name": CA_SECRET},
            "type": "Opaque",
            "data": {"tls.crt": encoded(ca_pem)},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta | {"name": TLS_SECRET},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": encoded(cert), "tls.key": encoded(key)},
        },
    ]


def start_kyverno(
    cluster: ControlPlane, workdir: Path, config: Config | None = None, selector: Selector | None = None
) -> Kyverno:
    """Install Kyverno's CRDs, namespace and TLS Secrets; start the controller; apply the policies; wait until ready.

    The controller runs as the cluster admin, serving on loopback with our pair;
    returns once its webhook for the policies is registered (the caller then waits
    until the API server applies it, as for the other peers).
    """
    config = config or Config()
    workdir.mkdir(parents=True, exist_ok=True)
    crds = kyverno_crds()
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds))
    for name in re.findall(r"(?m)^  name: (\S+)$", crds.read_text()):  # each CRD's metadata.name
        cluster.wait_established(name)
    apply(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KYVERNO_NAMESPACE}})
    certs = workdir / "certs"
    certs.mkdir(exist_ok=True)
    ca_pem = write_serving_pair(certs / "tls.crt", certs / "tls.key")
    apply(cluster, *_secrets(ca_pem, (certs / "tls.crt").read_bytes(), (certs / "tls.key").read_bytes()))
    # Kyverno's own configuration (ConfigMap `kyverno`) left at its defaults: no resource filters.
    port, metrics = free_port(), free_port()
    env = os.environ | {  # names Kyverno insists on (its Deployment sets them); only the namespace is looked up
        "KYVERNO_NAMESPACE": KYVERNO_NAMESPACE,
        "KYVERNO_SERVICEACCOUNT_NAME": "kyverno",
        "KYVERNO_DEPLOYMENT": "kyverno",
        "KYVERNO_POD_NAME": "kyverno-bench",
        "INIT_CONFIG": "kyverno",
        "METRICS_CONFIG": "kyverno-metrics",
    }
    server = Server.start(
        "kyverno",
        [
            binaries.find("kyverno"),
            f"--kubeconfig={cluster.kubeconfig}", f"--serverIP={LOOPBACK}:{port}",
            f"--webhookServerHost={LOOPBACK}", f"--webhookServerPort={port}",
            f"--caSecretName={CA_SECRET}", f"--tlsSecretName={TLS_SECRET}", "--disableCertManagerController",
            f"--webhookTimeout={TIMEOUT_SECONDS}", "--admissionReports=false",
            "--omitEvents=PolicyApplied,PolicyViolation,PolicySkipped,PolicyError",
            f"--metricsHost={LOOPBACK}", f"--metricsPort={metrics}", "--controllerRuntimeMetricsAddress=0",
            "--autoMemLimitEnabled=false", "--disableLogColor", "--v=0",
        ],
        workdir,
        env,
    )  # fmt: skip
    kyverno = Kyverno(server, port, metrics, ca_pem)
    try:
        with httpx.Client(verify=ssl.create_default_context(cadata=ca_pem.decode())) as probe:
            wait_until(server, probe, f"{kyverno.url}/health/readiness", 120)
        apply(cluster, *validating_policies(config, selector))
        _wait_registered(cluster, server)
    except BaseException:
        kyverno.stop()
        raise
    return kyverno


def _wait_registered(cluster: ControlPlane, server: Server, timeout: float = 120) -> None:
    """Until Kyverno's webhook configuration holds the ValidatingPolicies' webhook."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        if _policy_webhook(cluster) is not None:
            return
        time.sleep(0.5)
    raise RuntimeError(f"Kyverno did not register {KYVERNO_WEBHOOK} within {timeout:.0f}s; log:\n{server.log_tail()}")
