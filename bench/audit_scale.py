"""One audit round's wall time and peak memory at 1,000 and 10,000 workloads, everything real on loopback.

etcd + kube-apiserver (no kubelet or controllers: the Deployments are stored, never run), the
aigov and report CRDs, one OPA; N Deployments created through the API server across 10
namespaces, one in ten a vLLM server without an AISystem (a failure), the rest nginx (skipped).
Then `aigov audit run` (one round, the chart's defaults: 50 API requests/s, 8 OPA decisions in
flight) as a subprocess: its wall time and its peak RSS (getrusage of the child), and the
workloads and failures it reports.

    python bench/audit_scale.py [--workloads 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aigov.cli.selftest import deployment
from devkit.devcluster import ControlPlane, run_opa

REPO = Path(__file__).resolve().parents[1]
NAMESPACES = 10
BATCH = 250


def populate(kube: ControlPlane, total: int, start: int) -> None:
    """Deployments `start`..`total-1`, spread over the bench namespaces, in parallel batches."""
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for ns in range(NAMESPACES):
        names = [i for i in range(start, total) if i % NAMESPACES == ns]
        items = [deployment(f"w{i}", "vllm/vllm-openai:v0.8.5" if i % 10 == 0 else "nginx:1.27") for i in names]
        batches += [(f"bench-{ns}", items[j : j + BATCH]) for j in range(0, len(items), BATCH)]

    def create(batch: tuple[str, list[dict[str, Any]]]) -> None:
        document = json.dumps({"apiVersion": "v1", "kind": "List", "items": batch[1]})
        kube.kubectl("create", "-n", batch[0], "-f", "-", "-o", "name", input=document)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, batches))


# `aigov audit run` in a fresh interpreter that reports its own peak RSS (KiB) on stderr when it exits.
_RUN = (
    "import resource, sys\n"
    "from aigov.cli.main import main\n"
    "sys.argv = ['aigov', 'audit', 'run', *sys.argv[1:]]\n"
    "try:\n    main()\n"
    "finally:\n    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def audit_round(kube: ControlPlane, opa_url: str) -> dict[str, Any]:
    """`aigov audit run` once: wall seconds, its peak RSS (MiB), workloads and failures."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "--kubeconfig", str(kube.kubeconfig), "--opa-url", opa_url],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"aigov audit run failed:\n{done.stderr}")
    found = json.loads(done.stdout)
    return {
        "seconds": round(seconds, 1),
        "peakRssMiB": round(int(done.stderr.split()[-1]) / 1024, 1),
        "workloads": found["workloads"],
        "failures": sum(v["count"] for v in found["violations"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as tmp, ControlPlane(Path(tmp) / "cp") as kube:
        kube.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        kube.kubectl(
            "apply", "--server-side", "-f", str(REPO / "tests" / "fixtures" / "crds" / "openreports.io_reports.yaml")
        )
        kube.wait_established("reports.openreports.io")
        for ns in range(NAMESPACES):
            kube.kubectl("create", "namespace", f"bench-{ns}")
        with run_opa(Path(tmp) / "opa") as opa:
            created = 0
            for total in sorted(args.workloads):
                started = time.perf_counter()
                populate(kube, total, created)
                created = total
                print(f"created {total} Deployments ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
                print(json.dumps({"target": total, **audit_round(kube, opa.url)}))


if __name__ == "__main__":
    main()
