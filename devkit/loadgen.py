"""Benchmark harness: realistic admission requests, vegeta runs, percentiles, machine info, JSON results.

Shared by the benchmarks in bench/ (`make bench`). The requests are what the
API server sends for a `kubectl apply` of a ~8 KB Deployment (a storefront web
app, or a vLLM model server): labels, annotations (the last-applied
configuration), probes, resources, a mesh sidecar, two dozen environment variables.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import platform
import ssl
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from aigov.core.config import SYSTEM_LABEL
from aigov.core.model import rfc3339
from aigov.policy.input import admission_request
from devkit import binaries
from devkit.devcluster import ControlPlane
from devkit.devstack import Webhook, grant_webhook, install_crds, start_webhook

RESULTS = Path(os.environ.get("AIGOV_BENCH_RESULTS", Path(__file__).resolve().parents[1] / "bench" / "results"))
VLLM = "vllm/vllm-openai@sha256:4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b"
WEB = "registry.example.com/shop/storefront:4.12.0"
SIDECAR = "docker.io/istio/proxyv2:1.24.0"
CASES = ("allowed", "denied", "governed")
"""allowed: a storefront web app (no AI signal at all); denied: an unlabelled vLLM server;
governed: the vLLM server labelled with an approved system."""


def _web_container() -> dict[str, Any]:
    """A storefront web app: no engine image, command, model reference or accelerator."""
    env = [
        {"name": "NODE_ENV", "value": "production"},
        {"name": "PORT", "value": "8080"},
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "storefront-db", "key": "url"}}},
        {"name": "REDIS_URL", "value": "redis://redis-master.shop.svc.cluster.local:6379/0"},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        *({"name": f"FEATURE_FLAG_{i:02d}", "value": f"checkout-variant-{i:02d}-" + "x" * 16} for i in range(19)),
    ]
    return {
        "name": "server",
        "image": WEB,
        "command": ["node"],
        "args": ["dist/server.js", "--port", "8080", "--log-format", "json"],
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": env,
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 15},
        "volumeMounts": [{"name": "assets", "mountPath": "/app/public"}, {"name": "cache", "mountPath": "/cache"}],
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }


def _model_container() -> dict[str, Any]:
    """A vLLM server: engine image, model reference, a GPU."""
    env = [{"name": f"SETTING_{i:02d}", "value": f"value-{i:02d}-" + "x" * 24} for i in range(24)]
    return {
        "name": "server",
        "image": VLLM,
        "args": ["--model", "/models/assistant", "--port", "8000", "--max-model-len", "8192"],
        "ports": [{"containerPort": 8000, "name": "http", "protocol": "TCP"}],
        "env": env,
        "resources": {
            "limits": {"memory": "24Gi", "nvidia.com/gpu": "1"},
            "requests": {"cpu": "4", "memory": "24Gi"},
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}, "initialDelaySeconds": 60},
        "volumeMounts": [{"name": "models", "mountPath": "/models"}, {"name": "cache", "mountPath": "/cache"}],
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }


def deployment(case: str, name: str = "model-server", system: str = "support-chatbot") -> dict[str, Any]:
    """The ~8 KB Deployment of `case` (see CASES)."""
    ai = case != "allowed"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop", "team": "platform"}
    if case == "governed":
        labels[SYSTEM_LABEL] = system
    sidecar = {
        "name": "istio-proxy",
        "image": SIDECAR,
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
    }
    data = (
        {"name": "models", "persistentVolumeClaim": {"claimName": "models"}}
        if ai
        else {"name": "assets", "emptyDir": {}}
    )
    volumes: list[dict[str, Any]] = [data, {"name": "cache", "emptyDir": {"sizeLimit": "20Gi"}}]
    pod: dict[str, Any] = {"containers": [_model_container() if ai else _web_container(), sidecar], "volumes": volumes}
    if ai:
        pod["nodeSelector"] = {"node.kubernetes.io/instance-type": "gpu-a10"}
        pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    else:
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            }
        ]
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels, "annotations": {"team.example.com/owner": "platform"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": labels, "annotations": {"prometheus.io/scrape": "true"}}, "spec": pod},
        },
    }
    applied = json.dumps(body, separators=(",", ":"))
    body["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = applied
    return body


def review(case: str, namespace: str, name: str = "model-server") -> dict[str, Any]:
    """The AdmissionReview v1 the API server sends for a CREATE of `deployment(case)`."""
    request = admission_request(deployment(case, name), namespace)
    request["userInfo"] = {"username": "alice@example.com", "groups": ["developers", "system:authenticated"]}
    request["dryRun"] = False
    request["uid"] = str(uuid.uuid4())
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


@dataclass(frozen=True)
class Stats:
    """Latency percentiles in milliseconds, with counts."""

    requests: int
    errors: int
    p50: float
    p90: float
    p99: float
    max: float
    rate: float = 0.0
    """Achieved requests per second (vegeta: throughput of successful requests)."""

    def as_dict(self) -> dict[str, float | int]:
        """For the JSON results."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def percentiles(samples_ms: Sequence[float], errors: int = 0) -> Stats:
    """Stats of sequential samples (milliseconds), nearest-rank inclusive."""
    if len(samples_ms) < 2:
        only = samples_ms[0] if samples_ms else 0.0
        return Stats(len(samples_ms), errors, only, only, only, only)
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return Stats(len(samples_ms), errors, statistics.median(samples_ms), cuts[89], cuts[98], max(samples_ms))


def vegeta(
    url: str,
    body: dict[str, Any],
    *,
    ca_pem: bytes,
    duration: float,
    rate: int = 0,
    workers: int = 1,
) -> Stats:
    """POST `body` to `url` with vegeta: at `rate` per second (open loop), or with `rate` 0 as fast as `workers` go."""
    with tempfile.TemporaryDirectory(prefix="aigov-vegeta-") as tmp:
        ca = Path(tmp) / "ca.pem"
        ca.write_bytes(ca_pem)
        target = {
            "method": "POST",
            "url": url,
            "body": base64.b64encode(json.dumps(body).encode()).decode(),
            "header": {"Content-Type": ["application/json"]},
        }
        pace = [f"-rate={rate}/s"] if rate else ["-rate=0", f"-workers={workers}", f"-max-workers={workers}"]
        attack = subprocess.run(
            [
                str(binaries.find("vegeta")), "attack", "-format=json", f"-duration={duration}s", f"-root-certs={ca}",
                "-timeout=5s", *pace,
            ],
            input=json.dumps(target).encode() + b"\n",
            capture_output=True,
            check=False,
            timeout=duration + 60,
        )  # fmt: skip
        if attack.returncode != 0:
            raise RuntimeError(f"vegeta attack on {url} failed: {attack.stderr.decode(errors='replace')[-500:]}")
        report = subprocess.run(
            [str(binaries.find("vegeta")), "report", "-type=json"],
            input=attack.stdout,
            capture_output=True,
            check=True,
            timeout=60,
        )
    data = json.loads(report.stdout)
    latencies = data["latencies"]
    ok = sum(count for code, count in data["status_codes"].items() if code == "200")
    return Stats(
        requests=int(data["requests"]),
        errors=int(data["requests"]) - ok,
        p50=latencies["50th"] / 1e6,
        p90=latencies["90th"] / 1e6,
        p99=latencies["99th"] / 1e6,
        max=latencies["max"] / 1e6,
        rate=float(data["throughput"]),
    )


def _versions() -> dict[str, str]:
    pinned = binaries.pinned_versions()
    found = {key.removesuffix("_VERSION").lower(): value for key, value in pinned.items()}
    found["python"] = platform.python_version()
    return found


def machine() -> dict[str, Any]:
    """CPU model, cores, kernel, versions and the load average now."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "versions": _versions(),
        "loadavg": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def rss_mib(pid: int) -> float:
    """Resident memory of process `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def save(name: str, results: dict[str, Any], quick: bool, started: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` (quick runs go to a temporary `<name>.quick.json`, not committed)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}{'.quick' if quick else ''}.json"
    document = {"benchmark": name, "quick": quick, "machine": started, "loadavg_end": machine()["loadavg"]}
    path.write_text(json.dumps(document | {"results": results}, indent=2) + "\n")
    return path


def renamed(body: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of a Deployment with another name."""
    copied = copy.deepcopy(body)
    copied["metadata"]["name"] = name
    return copied


def aisystem(name: str, namespace: str, bound: int = 3, history: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """A limited-risk AISystem approved for the vLLM image, and its status: an assessment, an approval,
    operator conditions, `history` past suspensions and `bound` bound Deployments (object, status)."""
    past = "2026-01-02T00:00:00Z"
    until = rfc3339(datetime.now(UTC) + timedelta(days=180))  # within the tiers' maximum terms
    obj = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "displayName": f"Assistant {name}",
            "purpose": "Answers customer questions about orders and deliveries; tells users they talk to an AI.",
            "riskTier": "limited",
            "owner": {"name": "Support Platform team", "email": "support-platform@example.com"},
            "images": [VLLM],
            "lifecycle": {"stage": "production"},
        },
    }
    suspension = {
        "active": False, "since": past, "reason": "CheckBreached", "suspendedBy": "aigov-operator", "check": "psi",
        "value": 0.31, "resumedAt": past, "resumedBy": "bob", "justification": "retrained on fresh data",
    }  # fmt: skip
    status = {
        "assessments": [
            {"status": "completed", "assessor": "alice", "completedAt": past, "expiresAt": until,
             "reference": "https://docs.example.com/ia.pdf", "sha256": "ab" * 32, "residualRisk": "low",
             "riskTier": "limited"},
        ],
        "approvals": [
            {"approver": "bob", "role": "product-owner", "decision": "approved", "decidedAt": past,
             "expiresAt": until, "images": [VLLM]},
        ],
        "phase": "Approved",
        "conditions": [
            {"type": "Approved", "status": "True", "reason": "Approved", "message": "1 of 1 approvals valid",
             "lastTransitionTime": past},
        ],
        "suspension": suspension,
        "suspensionHistory": [suspension] * history,
        "boundWorkloads": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"workload-{i:05d}", "images": [VLLM]}
            for i in range(bound)
        ],
    }  # fmt: skip
    return obj, status


class Admin:
    """A keep-alive HTTPS client to the API server as the admin (client certificate)."""

    def __init__(self, cluster: ControlPlane) -> None:
        context = ssl.create_default_context(cafile=str(cluster.ca_file))
        context.load_cert_chain(cluster.pki_dir / "aigov-admin.crt", cluster.pki_dir / "aigov-admin.key")
        self.client = httpx.Client(base_url=cluster.url, verify=context, timeout=30)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> httpx.Response:
        """One request; raises on anything but 2xx."""
        response = self.client.request(method, path, json=body, params=params or None)
        if response.is_error:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response

    def namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        """Create a namespace."""
        self.send("POST", "/api/v1/namespaces", {"metadata": {"name": name, "labels": labels or {}}})

    def aisystem(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        """Create an AISystem and write its status (no record policy is installed by `start_aigov`)."""
        path = f"/apis/aigov.io/v1alpha1/namespaces/{obj['metadata']['namespace']}/aisystems"
        created = self.send("POST", path, obj).json()
        self.send("PUT", f"{path}/{obj['metadata']['name']}/status", created | {"status": status})


def create_systems(cluster: ControlPlane, namespace: str, start: int, stop: int, without: tuple[str, ...] = ()) -> None:
    """AISystems `sys-<start>` .. `sys-<stop - 1>` with their statuses (less the fields `without`), from 4 threads."""

    def batch(indices: range) -> None:
        admin = Admin(cluster)
        for i in indices:
            obj, status = aisystem(f"sys-{i:05d}", namespace)
            admin.aisystem(obj, {k: v for k, v in status.items() if k not in without})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, (range(start + t, stop, 4) for t in range(4))))


def start_aigov(cluster: ControlPlane, workdir: Path) -> Webhook:
    """aigov's CRDs and its webhook with its OPA, unregistered (no record policy, no operator)."""
    install_crds(cluster)
    grant_webhook(cluster)
    return start_webhook(cluster, workdir)
