"""The webhook under stress: OPA stopped and back, certificates rotated on disk, bodies that are not reviews."""

from __future__ import annotations

import re
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography import x509

from aigov.policy.bundle import Bundle, read_bundle
from devkit.devcluster import LOOPBACK, ControlPlane, start_opa
from devkit.devstack import Webhook, start_webhook
from tests.e2e.conftest import People, register
from tests.e2e.objects import (
    NGINX,
    VLLM,
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    assessment,
    checked,
    declared_not_ai,
    settle,
    workload,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]


@dataclass
class Dedicated:
    """A second webhook with its own OPA, registered for one labelled namespace only."""

    webhook: Webhook
    namespace: str
    configuration: str

    def register(self, kube: ControlPlane) -> None:
        """(Re-)register with the webhook's current CA bundle."""
        register(kube, self.webhook, self.configuration, only={"aigov-e2e/stack": self.configuration})


@pytest.fixture
def dedicated(kube: ControlPlane, tmp_path: Path) -> Iterator[Dedicated]:
    """Its namespace is also reviewed by the shared webhook; both must allow for a request to pass."""
    name = f"dedicated-{uuid.uuid4().hex[:6]}"
    webhook = start_webhook(kube, tmp_path / name)
    stack = Dedicated(webhook, f"t-{name}", name)
    try:
        kube.kubectl("create", "namespace", stack.namespace)
        kube.kubectl("label", "namespace", stack.namespace, f"aigov-e2e/stack={name}")
        stack.register(kube)
        yield stack
    finally:
        kube.kubectl("delete", "validatingwebhookconfiguration", name, check=False)
        webhook.stop()


def _readyz(webhook: Webhook) -> tuple[int, dict[str, Any]]:
    with webhook.client() as client:
        response = client.get("/readyz", timeout=5)
        return response.status_code, response.json()


def test_opa_down_denies_then_admissions_recover(kube: ControlPlane, people: People, dedicated: Dedicated) -> None:
    namespace, webhook = dedicated.namespace, dedicated.webhook
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, "chat", approval("bob"), people.bob))
    settle()
    checked(apply(kube, namespace, workload("Deployment", "before", system="chat")))

    webhook.opa.server.stop()
    result = apply(kube, namespace, workload("Deployment", "during", system="chat"))
    assert result.returncode != 0
    assert f'admission webhook "{dedicated.configuration}.workloads.aigov.io" denied' in result.stderr
    assert "AIGOV_POLICY_UNAVAILABLE" in result.stderr
    assert _readyz(webhook)[0] == 503
    # AISystems are only warned about: editing them goes on.
    result = checked(apply(kube, namespace, aisystem("other")))
    assert "Warning: aigov could not check this AISystem (policy unavailable)" in result.stderr

    # Back, but serving another bundle (an allow-everything module beside the real ones): not ready.
    shipped = read_bundle()
    tampered = Bundle({**shipped.modules, "aigov/admission/z.rego": "package aigov.admission\n\n_z := 1\n"}, "f" * 64)
    webhook.opa = start_opa(webhook.opa.server.log_path.parent, port=webhook.opa.port, bundle=tampered)
    status, detail = _readyz(webhook)
    assert status == 503
    assert detail["ready"] is False and "f" * 64 in detail["reason"]
    assert (detail["policyBundleVersion"], detail["policyBundleSha256"]) == (shipped.version, shipped.sha256)
    webhook.opa.server.stop()

    webhook.opa = start_opa(webhook.opa.server.log_path.parent, port=webhook.opa.port)  # back, the shipped bundle
    webhook.wait_ready(30)
    assert _readyz(webhook) == (200, {"ready": True, "policyBundleVersion": shipped.version,
                                      "policyBundleSha256": shipped.sha256})  # fmt: skip
    info = f'aigov_policy_bundle_info{{sha256="{shipped.sha256}",version="{shipped.version}"}} 1.0'
    assert info in webhook.metrics()
    checked(apply(kube, namespace, workload("Deployment", "after", system="chat")))
    errors = re.search(r"^aigov_policy_errors_total (\S+)$", webhook.metrics(), re.MULTILINE)
    assert errors is not None
    assert float(errors.group(1)) >= 1


def _served_certificate(port: int) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ssl.get_server_certificate((LOOPBACK, port)).encode())


def test_rotated_certificate_is_served_without_restart(kube: ControlPlane, dedicated: Dedicated) -> None:
    webhook = dedicated.webhook
    before = _served_certificate(webhook.port)
    webhook.rotate()
    rotated = x509.load_pem_x509_certificate(webhook.cert_file.read_bytes())
    assert rotated != before
    deadline = time.monotonic() + 10
    while _served_certificate(webhook.port) != rotated:
        assert time.monotonic() < deadline, "the webhook kept serving the old certificate"
        time.sleep(0.2)
    webhook.server.check_alive()  # same process
    dedicated.register(kube)  # the new CA bundle: the API server must now handshake with the new pair
    checked(apply(kube, dedicated.namespace, declared_not_ai("Deployment", "web")))
    webhook.wait_ready(5)


def _with_bad_metadata(field: str, metadata: object) -> bytes:
    """A review of an AI Pod (so the answer would be a deny) whose metadata is not an object and has no name."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"containers": [{"image": VLLM}]}}
    good = {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": pod["spec"]}
    request = {
        "uid": "u",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "UPDATE",
        "userInfo": {"username": "someone"},
        "namespace": "default",
        "object": good,
        "oldObject": good,
    } | {field: pod}
    return orjson.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})


MALFORMED = [
    (b"this is not json", "body is not JSON"),
    (b"[1, 2]", "body is not a JSON object"),
    (b'{"apiVersion": "v1", "kind": "Pod"}', "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview"),
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "AdmissionReview has no request object"),
    (
        b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"kind": {"kind": "Pod"}}}',
        "request.uid is missing",
    ),
    *(
        (_with_bad_metadata(field, metadata), f"request.{field}.metadata is not an object")
        for field in ("object", "oldObject")
        for metadata in ("oops", [1])
    ),
]


@pytest.mark.parametrize(("body", "reason"), MALFORMED)
@pytest.mark.parametrize("path", ["/validate", "/validate-aisystem"])
def test_malformed_body_gets_400_with_the_reason(aigov_cluster: Webhook, path: str, body: bytes, reason: str) -> None:
    with aigov_cluster.client() as client:
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert reason in response.json()["reason"]


def test_review_echoes_uid(aigov_cluster: Webhook) -> None:
    pod = workload("Pod", "web", image=NGINX)
    request = {
        "uid": "0b2f6c1e-1111-4c5d-9e2a-1234567890ab",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "default",
        "name": "web",
        "operation": "CREATE",
        "userInfo": {"username": "someone"},
        "object": pod,
    }
    body = orjson.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
    with aigov_cluster.client() as client:
        response = client.post("/validate", content=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["kind"] == "AdmissionReview"
    assert answer["response"]["uid"] == request["uid"]
    assert answer["response"]["allowed"] is True
