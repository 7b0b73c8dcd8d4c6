"""Self-managed webhook TLS when cert-manager is not used: a CA and a serving pair kept in one Secret.

Runs beside the webhook (`python -m aigov.webhook.certrotation`, a native sidecar
in the Helm chart), as Gatekeeper's cert-controller does inside its manager.
Every replica, every interval:

1. reads the Secret (created empty by the chart); when its pair is missing,
   unreadable, not for the Service's DNS names, or expires within the renewal
   window, it issues a new CA and serving certificate and writes them with
   the Secret's resourceVersion, so of two replicas racing one wins and the
   other reads the winner's pair on its next pass;
2. writes the pair into its directory (key first, each file replaced
   atomically), where the webhook's reloading TLS context picks it up;
3. sets the `caBundle` of every webhook in the webhook configuration to the
   Secret's `ca.crt` when it differs.

The bundle holds the new CA and the one before it, so replicas still serving
the old certificate stay trusted until their next pass. Nothing is generated
at template time: the Secret's data never appears in a manifest, so neither
Helm nor a GitOps controller ever sees drift in it.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import logging
import os
import secrets
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import kubernetes
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from aigov.clients.kube import ApiError, KubeRest, KubeRestError, Target
from aigov.install.pki import CertificateAuthority, KeyPair

log = logging.getLogger(__name__)

CA_KEY, CERT_KEY, KEY_KEY = "ca.crt", "tls.crt", "tls.key"
_PEM_END = b"-----END CERTIFICATE-----\n"


@dataclass(frozen=True)
class Rotation:
    """What to keep: the Secret, the Service its certificate names, the webhook configuration that trusts it."""

    namespace: str
    secret: str
    service: str
    webhook_configuration: str
    validity_days: int = 365
    renew_days: int = 90

    @property
    def hosts(self) -> tuple[str, ...]:
        """The Service's DNS names; the bare name first, as the subject CN (at most 63 characters)."""
        base = f"{self.service}.{self.namespace}"
        return (self.service, base, f"{base}.svc", f"{base}.svc.cluster.local")

    @property
    def secret_path(self) -> str:
        """REST path of the Secret."""
        return f"/api/v1/namespaces/{self.namespace}/secrets/{self.secret}"

    @property
    def configuration_path(self) -> str:
        """REST path of the ValidatingWebhookConfiguration."""
        return f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{self.webhook_configuration}"


@dataclass(frozen=True)
class Material:
    """The serving pair and the CA bundle that trusts it, all PEM."""

    cert: bytes
    key: bytes
    ca_bundle: bytes


def _certificates(bundle: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(bundle)
    except ValueError:
        return []


def _decoded(secret: dict[str, Any]) -> dict[str, bytes]:
    data = secret.get("data") or {}
    return {key: base64.b64decode(value) for key, value in data.items() if key in (CA_KEY, CERT_KEY, KEY_KEY)}


def _spki(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def usable(secret: dict[str, Any], rotation: Rotation, now: dt.datetime) -> Material | None:
    """The Secret's material when it can keep serving past the renewal window; else None."""
    data = _decoded(secret)
    if set(data) != {CA_KEY, CERT_KEY, KEY_KEY}:
        return None
    cas, certs = _certificates(data[CA_KEY]), _certificates(data[CERT_KEY])
    if not cas or len(certs) != 1:
        return None
    cert = certs[0]
    try:
        key = serialization.load_pem_private_key(data[KEY_KEY], password=None)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        cert.verify_directly_issued_by(cas[0])
    except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return None
    if _spki(key.public_key()) != _spki(cert.public_key()):
        return None
    if not set(rotation.hosts) <= set(names.get_values_for_type(x509.DNSName)):
        return None
    if cert.not_valid_after_utc - now < dt.timedelta(days=rotation.renew_days):
        return None
    return Material(data[CERT_KEY], data[KEY_KEY], data[CA_KEY])


def issue(rotation: Rotation, previous_bundle: bytes, now: dt.datetime) -> Material:
    """A new CA and serving pair; the bundle keeps the previous CA while it is still valid."""
    # A CA name of its own: with the old CA still in the bundle, clients pick the issuer by name.
    name = f"aigov-webhook-ca-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    ca = CertificateAuthority(name, valid_days=rotation.validity_days + rotation.renew_days)
    pair: KeyPair = ca.serving(rotation.hosts, valid_days=rotation.validity_days)
    still_valid = [c for c in _certificates(previous_bundle)[:1] if c.not_valid_after_utc > now]
    bundle = ca.pair.cert_pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in still_valid)
    return Material(pair.cert_pem, pair.key_pem, bundle)


def _encoded(material: Material) -> dict[str, str]:
    raw = {CA_KEY: material.ca_bundle, CERT_KEY: material.cert, KEY_KEY: material.key}
    return {key: base64.b64encode(value).decode() for key, value in raw.items()}


def _write_atomically(path: Path, content: bytes) -> None:
    if path.exists() and path.read_bytes() == content:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    tmp.chmod(0o600)
    tmp.replace(path)


def install(material: Material, directory: Path) -> None:
    """Write the pair where the webhook reads it: the key first, so a half-updated pair never loads."""
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(directory / KEY_KEY, material.key)
    _write_atomically(directory / CERT_KEY, material.cert)


def trust(kube: KubeRest, rotation: Rotation, ca_bundle: bytes) -> bool:
    """Set every webhook's caBundle to `ca_bundle`; True when the configuration was updated."""
    configuration = kube.get(rotation.configuration_path)
    encoded = base64.b64encode(ca_bundle).decode()
    webhooks = configuration.get("webhooks") or []
    if all(w.get("clientConfig", {}).get("caBundle") == encoded for w in webhooks):
        return False
    for webhook in webhooks:
        webhook.setdefault("clientConfig", {})["caBundle"] = encoded
    kube.request("PUT", rotation.configuration_path, body=configuration)
    return True


def reconcile(kube: KubeRest, rotation: Rotation, directory: Path, now: dt.datetime | None = None) -> Material:
    """One pass: make sure the Secret holds a usable pair, install it, trust its CA; returns the pair in use."""
    now = now or dt.datetime.now(dt.UTC)
    secret = kube.get(rotation.secret_path)
    material = usable(secret, rotation, now)
    if material is None:
        material = issue(rotation, _decoded(secret).get(CA_KEY, b""), now)
        kube.request("PUT", rotation.secret_path, body={**secret, "data": _encoded(material)})
        log.info("issued a new webhook certificate for %s into Secret %s", ", ".join(rotation.hosts), rotation.secret)
    install(material, directory)
    if trust(kube, rotation, material.ca_bundle):
        log.info("updated the caBundle of %s", rotation.webhook_configuration)
    return material


def connect(kubeconfig: Path | None) -> KubeRest:
    """In a pod: the service account (its token re-read as it rotates); else the kubeconfig."""
    if kubeconfig is not None or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return KubeRest.connect(kubeconfig)
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    http = httpx.Client(
        base_url=configuration.host,
        verify=ssl.create_default_context(cafile=configuration.ssl_ca_cert),
        timeout=30.0,
        trust_env=False,
        headers={"Accept": "application/json", "User-Agent": "aigov-certrotation"},
    )
    return KubeRest(http, Target(configuration.host, "", None), configuration)


def run(kube: KubeRest, rotation: Rotation, directory: Path, interval: float) -> None:
    """Reconcile every `interval` seconds (at once again after losing a write race) until killed."""
    while True:
        try:
            reconcile(kube, rotation, directory)
            delay = interval
        except ApiError as exc:
            delay = 0.5 if exc.status == 409 else min(interval, 10.0)
            log.warning("webhook TLS pass failed (%s); again in %.1fs", exc, delay)
        except KubeRestError as exc:
            delay = min(interval, 10.0)
            log.warning("webhook TLS pass failed (%s); again in %.1fs", exc, delay)
        time.sleep(delay)


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m aigov.webhook.certrotation`."""
    cli = argparse.ArgumentParser(prog="python -m aigov.webhook.certrotation", description=__doc__.splitlines()[0])
    cli.add_argument("--secret", required=True, help="NAMESPACE/NAME of the Secret that keeps the pair")
    cli.add_argument("--service", required=True, help="the webhook's Service (in the Secret's namespace)")
    cli.add_argument("--webhook-configuration", required=True, help="ValidatingWebhookConfiguration to patch")
    cli.add_argument("--dir", type=Path, required=True, help="where to write tls.crt and tls.key")
    cli.add_argument("--interval", type=float, default=60.0, help="seconds between passes")
    cli.add_argument("--validity-days", type=int, default=365, help="lifetime of a serving certificate")
    cli.add_argument("--renew-days", type=int, default=90, help="renew this long before expiry")
    cli.add_argument("--kubeconfig", type=Path, default=None, help="default: in-cluster, else $KUBECONFIG")
    return cli


def main(argv: list[str] | None = None) -> int:
    """Run the rotation loop until killed."""
    command = parser()
    args = command.parse_args(argv)
    namespace, _, secret = args.secret.partition("/")
    if not namespace or not secret:
        command.error("--secret must be NAMESPACE/NAME")
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    rotation = Rotation(
        namespace, secret, args.service, args.webhook_configuration, args.validity_days, args.renew_days
    )
    run(connect(args.kubeconfig), rotation, args.dir, args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
