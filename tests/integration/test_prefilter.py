"""The workloads' pre-filter (`aigov.install.prefilter`) is a superset of what the policies deny.

The generated webhook entry is registered with the real API server, pointing at a
recorder that allows everything (`/filtered`), beside a copy without the
pre-filter (`/all`: what reached validating admission at all). Every workload of
the detection corpus and the end-to-end fixtures is created with a server-side
dry run; the real OPA with the shipped policies decides each one as the webhook
would. Every object the policies deny must have reached `/filtered`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from aigov.cli import check
from aigov.cli.manifests import Manifest
from aigov.core.config import Config
from aigov.install.admission import WORKLOADS_WEBHOOK, Registration, UrlClient, webhook_configuration
from aigov.policy.bundle import read_bundle
from devkit import corpus
from devkit.devcluster import LOOPBACK, ControlPlane, OpaServer, free_port
from devkit.devstack import apply, write_serving_pair
from tests.e2e.objects import NGINX, VLLM, workload

pytestmark = pytest.mark.cluster

PROBE = "aigov-prefilter-probe"
FIXTURE_KINDS = (
    *("Pod", "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job", "CronJob"),
    "InferenceService",
)


@dataclass
class Recorder:
    """An HTTPS admission webhook on loopback that allows everything and records what it was sent."""

    url: str
    ca_pem: bytes
    seen: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(path, operation, subResource, name) of every review."""

    def names(self, path: str, operation: str = "CREATE", sub_resource: str = "") -> set[str]:
        """Names of the objects sent to `path` for `operation` of `sub_resource`."""
        return {n for p, op, sub, n in self.seen if (p, op, sub) == (path, operation, sub_resource)}


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorder]:
    certs = tmp_path_factory.mktemp("recorder")
    ca_pem = write_serving_pair(certs / "tls.crt", certs / "tls.key")
    port = free_port()
    rec = Recorder(f"https://{LOOPBACK}:{port}", ca_pem)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            request = review["request"]
            name = request.get("name") or request["object"]["metadata"].get("name", "")
            rec.seen.append((self.path.split("?")[0], request["operation"], request.get("subResource", ""), name))
            response = {"uid": request["uid"], "allowed": True}
            review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
            body = json.dumps(review).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "tls.crt", certs / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()


@pytest.fixture(scope="module")
def probe_namespace(aigov_crds: ControlPlane, recorder: Recorder) -> Iterator[str]:
    """A namespace where the generated workloads' entry (`/filtered`) and an unfiltered copy (`/all`) send to
    the recorder; the configuration is removed afterwards."""
    kube = aigov_crds
    namespace = f"prefilter-{time.monotonic_ns() % 10**8}"
    kube.kubectl("create", "namespace", namespace)
    generated = webhook_configuration(Registration(UrlClient(recorder.url, recorder.ca_pem)), Config())
    filtered = next(h for h in generated["webhooks"] if h["name"] == WORKLOADS_WEBHOOK)
    only_here = {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [namespace]}
    filtered["namespaceSelector"]["matchExpressions"].append(only_here)
    filtered["clientConfig"]["url"] = f"{recorder.url}/filtered"
    unfiltered = copy.deepcopy(filtered) | {"name": f"all.{WORKLOADS_WEBHOOK}", "matchConditions": []}
    unfiltered["clientConfig"]["url"] = f"{recorder.url}/all"
    apply(kube, generated | {"metadata": {"name": PROBE}, "webhooks": [filtered, unfiltered]})
    marker = workload("Pod", "marker", NGINX, system="probe")
    deadline = time.monotonic() + 30
    while "marker" not in recorder.names("/filtered"):
        errors = _dry_run(kube, namespace, [marker])
        assert time.monotonic() < deadline, f"the probe webhook configuration did not take effect: {errors}"
        time.sleep(0.5)
    yield namespace
    kube.kubectl("delete", "validatingwebhookconfiguration", PROBE)


def _dry_run(kube: ControlPlane, namespace: str, objects: list[dict[str, Any]]) -> str:
    """Server-side dry-run create of every object, going on past refusals; kubectl's errors."""
    return kube.kubectl(
        "create", "--dry-run=server", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(objects), check=False
    ).stderr


def _denied(opa: OpaServer, namespace: str, objects: list[dict[str, Any]]) -> set[str]:
    """Names of the objects the shipped policies deny (no AISystems, an ordinary namespace)."""
    results = asyncio.run(
        check.decide_all(
            opa.url,
            read_bundle(),
            workloads=[(Manifest(o, "prefilter", i), namespace) for i, o in enumerate(objects)],
            systems={},
            namespace_labels={},
            config=Config(),
            now=datetime.now(UTC),
        )
    )
    return {r.manifest.obj["metadata"]["name"] for r in results if not r.decision.allowed}


def _corpus_objects() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The corpus workloads renamed `c-N` (names must be unique here), and the ordinary ones' names (-> refs)."""
    objects, ordinary = [], {}
    for index, entry in enumerate(corpus.load()):
        if not check.is_workload(entry.obj, Config()):
            continue
        obj = json.loads(json.dumps(entry.obj))
        obj["metadata"].pop("namespace", None)
        obj["metadata"]["name"] = f"c-{index}"
        objects.append(obj)
        if entry.label == "ordinary":
            ordinary[obj["metadata"]["name"]] = entry.ref
    return objects, ordinary


def _fixtures() -> list[dict[str, Any]]:
    """The end-to-end fixtures of every kind: an engine and an ordinary image, labelled and not."""
    return [
        workload(kind, f"f-{kind.lower()}-{i}", image, system)
        for kind in FIXTURE_KINDS
        for i, (image, system) in enumerate([(VLLM, None), (VLLM, "chat"), (NGINX, None), (NGINX, "chat")])
    ]


def test_prefilter_sends_everything_the_policies_deny(
    aigov_crds: ControlPlane, opa: OpaServer, recorder: Recorder, probe_namespace: str, tmp_path: Path
) -> None:
    objects, refs = _corpus_objects()
    ordinary = set(refs)
    objects += _fixtures()
    corpus.install_crds(aigov_crds, objects)
    _dry_run(aigov_crds, probe_namespace, objects)
    reached, sent = recorder.names("/all"), recorder.names("/filtered")
    names = [o["metadata"]["name"] for o in objects]
    assert len(reached & set(names)) >= 0.8 * len(names), "most objects reach validating admission"

    denied = _denied(opa, probe_namespace, objects)
    skipped = sorted((denied & reached) - sent)
    assert denied & reached, "the corpus holds objects the policies deny"
    assert skipped == [], f"the pre-filter kept denied objects from the webhook: {skipped}"

    ordinary_reached = ordinary & reached
    kept_away = ordinary_reached - sent
    fraction = len(kept_away) / len(ordinary_reached)
    (tmp_path / "fraction.txt").write_text(f"{len(kept_away)}/{len(ordinary_reached)} = {fraction:.3f}\n")
    print(f"pre-filter: {len(kept_away)} of {len(ordinary_reached)} ordinary corpus workloads not sent")
    print("sent:", [refs[n] for n in sorted(ordinary_reached & sent)])
    assert fraction >= 0.5


def test_prefilter_always_sends_ephemeral_containers(
    aigov_crds: ControlPlane, recorder: Recorder, probe_namespace: str
) -> None:
    kube, ns = aigov_crds, probe_namespace
    kube.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(workload("Pod", "web", NGINX)))
    assert "web" not in recorder.names("/filtered")
    debug = {"spec": {"ephemeralContainers": [{"name": "debug", "image": "busybox:1.37"}]}}
    kube.kubectl("patch", "-n", ns, "pod", "web", "--subresource=ephemeralcontainers", "-p", json.dumps(debug))
    assert "web" in recorder.names("/filtered", "UPDATE", "ephemeralcontainers")


def test_prefilter_sends_relabels_and_rising_scale_only(
    aigov_crds: ControlPlane, recorder: Recorder, probe_namespace: str
) -> None:
    kube, ns = aigov_crds, probe_namespace
    kube.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(workload("Deployment", "relabel", NGINX, "chat")))
    kube.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(workload("Deployment", "plain", NGINX)))
    label = "labels/aigov.io~1system"
    away = [{"op": "remove", "path": p} for p in (f"/metadata/{label}", f"/spec/template/metadata/{label}")]
    kube.kubectl("patch", "-n", ns, "deployment", "relabel", "--type=json", "-p", json.dumps(away))
    kube.kubectl("patch", "-n", ns, "deployment", "plain", "-p", json.dumps({"metadata": {"annotations": {"a": "b"}}}))
    assert "relabel" in recorder.names("/filtered", "UPDATE"), "a relabel away from a system is sent (oldObject)"
    assert "plain" in recorder.names("/all", "UPDATE")
    assert "plain" not in recorder.names("/filtered", "UPDATE"), "an ordinary update is not sent"

    kube.kubectl("scale", "-n", ns, "deployment/plain", "--replicas=3")
    assert "plain" in recorder.names("/filtered", "UPDATE", "scale"), "a rising scale is sent"
    before = len([s for s in recorder.seen if s[0] == "/all" and s[2] == "scale"])
    kube.kubectl("scale", "-n", ns, "deployment/plain", "--replicas=1")
    kube.kubectl("scale", "-n", ns, "deployment/plain", "--replicas=0")
    scales = [s for s in recorder.seen if s[2] == "scale"]
    assert len([s for s in scales if s[0] == "/all"]) == before + 2
    assert len([s for s in scales if s[0] == "/filtered"]) == 1, "scaling down or to zero is not sent"
