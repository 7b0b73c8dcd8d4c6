"""Decision latency of a typical Deployment against a real OPA server: median and p99 over 1,000 queries.

The Deployment is a governed vLLM server of a high-risk AISystem with a valid
assessment and two approvals (the full rule set runs and allows). Each query is
one `PolicyClient.decide` round trip (HTTP, evaluation, parsing), sequential.

    python bench/policy_latency.py [--opa-url URL] [--queries N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aigov.policy.input import Namespace, admission_request, build
from aigov.policy.opa import PolicyClient
from devkit.devcluster import run_opa

IMAGE = "vllm/vllm-openai@sha256:4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b"
SIDECAR = "docker.io/istio/proxyv2:1.24.0"
UNTIL = "2027-01-01T00:00:00Z"


def deployment() -> dict[str, Any]:
    """A Deployment as `kubectl apply` sends it: labels, probes, resources, a mesh sidecar."""
    labels = {"app": "credit-scoring", "aigov.io/system": "credit-scoring"}
    container = {
        "name": "vllm",
        "image": IMAGE,
        "args": ["--model", "/models/credit-explainer", "--port", "8000"],
        "ports": [{"containerPort": 8000, "name": "http"}],
        "env": [{"name": "HF_HOME", "value": "/cache"}],
        "resources": {"limits": {"nvidia.com/gpu": 1, "memory": "24Gi"}, "requests": {"cpu": "4", "memory": "24Gi"}},
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "volumeMounts": [{"name": "models", "mountPath": "/models"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "credit-scoring", "namespace": "lending", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "credit-scoring"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container, {"name": "istio-proxy", "image": SIDECAR}],
                    "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}],
                },
            },
        },
    }


def aisystem() -> dict[str, Any]:
    """A high-risk AISystem with a valid assessment and two approvals, one by a risk officer."""
    approvals = [
        {"approver": a, "role": r, "decision": "approved", "decidedAt": "2026-01-02T00:00:00Z", "expiresAt": UNTIL}
        | {"images": [IMAGE]}
        for a, r in (("frida", "risk-officer"), ("gustav", "ml-lead"))
    ]
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "credit-scoring", "namespace": "lending"},
        "spec": {
            "purpose": "credit scoring",
            "riskTier": "high",
            "images": [IMAGE],
            "lifecycle": {"stage": "production"},
        },
        "status": {
            "assessments": [{"status": "completed", "assessor": "dana", "expiresAt": UNTIL, "riskTier": "high"}],
            "approvals": approvals,
        },
    }


async def measure(url: str, queries: int) -> list[float]:
    """Milliseconds per decision, after a warm-up."""
    document = build(
        admission_request(deployment(), "lending"),
        aisystem(),
        Namespace("lending"),
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    async with PolicyClient(url) as client:
        for _ in range(50):
            decision = await client.decide(document)
        if not decision.allowed or decision.violations:
            raise SystemExit(f"the benchmark Deployment should be allowed cleanly, got {decision}")
        samples = []
        for _ in range(queries):
            start = time.perf_counter()
            await client.decide(document)
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def report(samples: list[float]) -> str:
    """Median and p99 in milliseconds."""
    p99 = statistics.quantiles(samples, n=100, method="inclusive")[98]
    return (
        f"policy decision latency, typical Deployment, {len(samples)} queries: "
        f"median {statistics.median(samples):.2f} ms, p99 {p99:.2f} ms"
    )


def main() -> None:
    """Run against --opa-url, else a local OPA started for the run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opa-url", help="an OPA server to use instead of starting one")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    if args.opa_url:
        samples = asyncio.run(measure(args.opa_url, args.queries))
    else:
        with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir, run_opa(Path(workdir)) as opa:
            samples = asyncio.run(measure(opa.url, args.queries))
    print(report(samples))


if __name__ == "__main__":
    main()
