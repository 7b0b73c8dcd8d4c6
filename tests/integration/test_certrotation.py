"""Self-managed webhook TLS against the real API server, as an identity holding only the chart's TLS grants."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from aigov.clients.kube import ApiError, KubeRest
from aigov.webhook.certrotation import CA_KEY, CERT_KEY, KEY_KEY, Rotation, reconcile
from devkit.chartgen.templates import self_managed_tls_rules
from devkit.devcluster import LOOPBACK, ControlPlane

SECRET = "webhook-tls"


def _apply(kube: ControlPlane, doc: dict[str, Any]) -> None:
    kube.kubectl("apply", "-f", "-", input=json.dumps(doc))


def _granted(rules: list[dict[str, Any]], rotation: Rotation) -> list[dict[str, Any]]:
    names = {"AIGOV_TPL_TLS_SECRET": rotation.secret, "AIGOV_TPL_NAME": rotation.webhook_configuration}
    return [rule | {"resourceNames": [names[n] for n in rule["resourceNames"]]} for rule in rules]


@pytest.fixture
def rotation(kube: ControlPlane, namespace: str) -> Rotation:
    """An empty Secret and a webhook configuration that matches nothing, as the chart creates them."""
    rotation = Rotation(namespace, SECRET, "aigov-webhook", f"certrotation-{namespace}")
    _apply(kube, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET, "namespace": namespace}})
    webhook = {
        "name": "never.aigov.io",
        "clientConfig": {"url": "https://127.0.0.1:1/validate"},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"], "operations": ["CREATE"]}],
        "namespaceSelector": {"matchLabels": {"aigov.io/test-never": "true"}},
        "failurePolicy": "Ignore",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }
    _apply(
        kube,
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": rotation.webhook_configuration},
            "webhooks": [webhook, {**webhook, "name": "never-either.aigov.io"}],
        },
    )
    return rotation


@pytest.fixture
def client(kube: ControlPlane, rotation: Rotation) -> Iterator[KubeRest]:
    """A client as a user bound to exactly the rules the chart grants the webhook for its TLS."""
    user = kube.user(f"tls-{rotation.namespace}")
    namespaced, clusterwide = self_managed_tls_rules()
    subject = [{"kind": "User", "name": user.name, "apiGroup": "rbac.authorization.k8s.io"}]
    rbac = "rbac.authorization.k8s.io/v1"
    for kind, rules in (("Role", namespaced), ("ClusterRole", clusterwide)):
        meta = {"name": user.name} | ({"namespace": rotation.namespace} if kind == "Role" else {})
        _apply(kube, {"apiVersion": rbac, "kind": kind, "metadata": meta, "rules": _granted(rules, rotation)})
        role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": user.name}
        binding = {"apiVersion": rbac, "kind": f"{kind}Binding", "metadata": meta, "roleRef": role_ref}
        _apply(kube, binding | {"subjects": subject})
    with KubeRest.connect(user.kubeconfig) as connected:
        yield connected


def _data(kube: ControlPlane, rotation: Rotation) -> dict[str, bytes]:
    secret = json.loads(kube.kubectl("get", "secret", SECRET, "-n", rotation.namespace, "-o", "json").stdout)
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def _bundles(kube: ControlPlane, rotation: Rotation) -> set[bytes]:
    name = rotation.webhook_configuration
    vwc = json.loads(kube.kubectl("get", "validatingwebhookconfiguration", name, "-o", "json").stdout)
    return {base64.b64decode(webhook["clientConfig"]["caBundle"]) for webhook in vwc["webhooks"]}


def _version(kube: ControlPlane, *args: str) -> str:
    return kube.kubectl("get", *args, "-o", "jsonpath={.metadata.resourceVersion}").stdout


def _handshake(directory: Path, ca_bundle: bytes, host: str) -> str:
    """A real TLS handshake: serve the written pair, connect trusting only the bundle, as `host`."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(directory / CERT_KEY, directory / KEY_KEY)
    client_ctx = ssl.create_default_context(cadata=ca_bundle.decode())
    with socket.create_server((LOOPBACK, 0)) as listener:
        port = listener.getsockname()[1]

        def accept() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        with (
            socket.create_connection((LOOPBACK, port), timeout=5) as raw,
            client_ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            version = tls.version() or ""
            tls.sendall(b"x")
        thread.join(5)
    return version


def test_first_pass_fills_the_secret_writes_the_pair_and_sets_the_ca_bundle(
    kube: ControlPlane, rotation: Rotation, client: KubeRest, tmp_path: Path
) -> None:
    reconcile(client, rotation, tmp_path)

    data = _data(kube, rotation)
    assert set(data) == {CA_KEY, CERT_KEY, KEY_KEY}
    assert (tmp_path / CERT_KEY).read_bytes() == data[CERT_KEY]
    assert (tmp_path / KEY_KEY).read_bytes() == data[KEY_KEY]
    assert _bundles(kube, rotation) == {data[CA_KEY]}
    for host in rotation.hosts:
        assert _handshake(tmp_path, data[CA_KEY], host).startswith("TLS")


def test_later_passes_change_nothing(kube: ControlPlane, rotation: Rotation, client: KubeRest, tmp_path: Path) -> None:
    reconcile(client, rotation, tmp_path)
    secret_version = _version(kube, "secret", SECRET, "-n", rotation.namespace)
    vwc_version = _version(kube, "validatingwebhookconfiguration", rotation.webhook_configuration)

    reconcile(client, rotation, tmp_path / "other-replica")

    assert _version(kube, "secret", SECRET, "-n", rotation.namespace) == secret_version
    assert _version(kube, "validatingwebhookconfiguration", rotation.webhook_configuration) == vwc_version
    assert (tmp_path / "other-replica" / CERT_KEY).read_bytes() == (tmp_path / CERT_KEY).read_bytes()


def test_a_pair_inside_the_renewal_window_is_replaced_and_the_old_ca_stays_trusted(
    kube: ControlPlane, rotation: Rotation, client: KubeRest, tmp_path: Path
) -> None:
    old = reconcile(client, rotation, tmp_path)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=rotation.validity_days - rotation.renew_days + 1)

    new = reconcile(client, rotation, tmp_path, now=later)

    assert new.cert != old.cert
    cas = x509.load_pem_x509_certificates(new.ca_bundle)
    assert [ca.subject for ca in cas[1:]] == [x509.load_pem_x509_certificate(old.ca_bundle).subject]
    assert _bundles(kube, rotation) == {new.ca_bundle}
    assert _data(kube, rotation)[CERT_KEY] == new.cert == (tmp_path / CERT_KEY).read_bytes()
    # a replica still serving the old certificate is trusted by the new bundle
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    (old_dir / CERT_KEY).write_bytes(old.cert)
    (old_dir / KEY_KEY).write_bytes(old.key)
    assert _handshake(old_dir, new.ca_bundle, rotation.hosts[2]).startswith("TLS")


def test_a_pair_for_another_service_is_replaced(
    kube: ControlPlane, rotation: Rotation, client: KubeRest, tmp_path: Path
) -> None:
    old = reconcile(client, rotation, tmp_path)
    renamed = Rotation(rotation.namespace, SECRET, "renamed-webhook", rotation.webhook_configuration)

    new = reconcile(client, renamed, tmp_path)

    assert new.cert != old.cert
    assert _handshake(tmp_path, new.ca_bundle, renamed.hosts[2]).startswith("TLS")


def test_the_tls_grants_reach_no_other_secret(kube: ControlPlane, rotation: Rotation, client: KubeRest) -> None:
    kube.kubectl("create", "secret", "generic", "other", "-n", rotation.namespace, "--from-literal=k=v")
    with pytest.raises(ApiError) as denied:
        client.get(f"/api/v1/namespaces/{rotation.namespace}/secrets/other")
    assert denied.value.status == 403
