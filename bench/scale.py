"""aigov's webhook as the cluster grows: 10, 1,000 and 10,000 AISystems, then 1,000 workloads bound to one system.

Everything real, on loopback: etcd + kube-apiserver, aigov's webhook with its
OPA (unregistered; reviews are POSTed straight to it). The AISystems carry
realistic statuses (an assessment, an approval, conditions, a current and two
past suspensions, three bound workloads: devkit.loadgen.aisystem), written
through the status subresource. At each size, once the webhook's watch has had
time to catch up, N sequential reviews per case on one keep-alive connection
(p50/p90/p99/max), and the webhook's and its OPA's resident memory. Last, the
governed system's status lists 1,000 bound workloads (as the operator writes it
when 1,000 Deployments carry its label), which the webhook sends to OPA with
every decision about that system.

    python bench/scale.py [--quick] [--sizes 10,1000,10000] [--bound 1000] [--requests N]
"""

from __future__ import annotations

import argparse
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from devkit.devcluster import ControlPlane
from devkit.devstack import Webhook
from devkit.loadgen import (
    CASES,
    Admin,
    aisystem,
    create_systems,
    machine,
    percentiles,
    review,
    rss_mib,
    save,
    start_aigov,
)

NAMESPACE = "bench"
SYSTEM = "support-chatbot"
EXPECTED = {"allowed": True, "denied": False, "governed": True}


def measure(webhook: Webhook, requests: int) -> dict[str, Any]:
    """Sequential reviews per case (milliseconds) and the resident memory of the webhook and its OPA (MiB)."""
    found: dict[str, Any] = {}
    context = ssl.create_default_context(cadata=webhook.ca_pem.decode())
    with httpx.Client(base_url=webhook.url, verify=context, timeout=10) as client:
        for case in CASES:
            body = review(case, NAMESPACE)
            allowed = client.post("/validate", json=body).json()["response"]["allowed"]
            if allowed != EXPECTED[case]:
                raise SystemExit(f"{case}: expected allowed={EXPECTED[case]}, got {allowed}")
            samples = []
            for _ in range(requests):
                start = time.perf_counter()
                client.post("/validate", json=body).raise_for_status()
                samples.append((time.perf_counter() - start) * 1000)
            found[case] = percentiles(samples).as_dict()
    found["webhook_rss_mib"] = round(rss_mib(webhook.server.process.pid), 1)
    found["opa_rss_mib"] = round(rss_mib(webhook.opa.server.process.pid), 1)
    return found


def settle(webhook: Webhook, seconds: float) -> None:
    """Give the webhook's watch time to take in new objects (its RSS stops growing)."""
    deadline, last = time.monotonic() + seconds, -1.0
    while time.monotonic() < deadline:
        time.sleep(1)
        now = rss_mib(webhook.server.process.pid)
        if abs(now - last) < 0.5:
            return
        last = now


def run(sizes: list[int], bound: int, requests: int, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"requests": requests, "sizes": {}}
    with ControlPlane(workdir / "controlplane") as cluster:
        webhook = start_aigov(cluster, workdir / "aigov")
        try:
            admin = Admin(cluster)
            admin.namespace(NAMESPACE)
            admin.aisystem(*aisystem(SYSTEM, NAMESPACE))
            have = 1
            for size in sizes:
                started = time.monotonic()
                create_systems(cluster, NAMESPACE, have, size)
                created = time.monotonic() - started
                have = max(have, size)
                settle(webhook, 60)
                results["sizes"][str(size)] = measure(webhook, requests) | {"create_s": round(created, 1)}
                print(f"{size:>6} AISystems: {results['sizes'][str(size)]}")
            status = aisystem(SYSTEM, NAMESPACE, bound=bound)[1]
            path = f"/apis/aigov.io/v1alpha1/namespaces/{NAMESPACE}/aisystems/{SYSTEM}"
            current = admin.send("GET", path).json()
            admin.send("PUT", f"{path}/status", current | {"status": status})
            settle(webhook, 30)
            results["bound_to_one"] = measure(webhook, requests) | {"bound": bound, "aisystems": have}
            print(f"{bound} workloads bound to {SYSTEM}: {results['bound_to_one']}")
        finally:
            webhook.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 and 30 systems, 30 bound, 20 requests")
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--bound", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500, help="sequential reviews per case and size")
    args = parser.parse_args()
    sizes, bound, requests = [int(s) for s in args.sizes.split(",")], args.bound, args.requests
    if args.quick:
        sizes, bound, requests = [10, 30], 30, 20
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
        results = run(sizes, bound, requests, Path(workdir))
    print(f"results: {save('scale', results, args.quick, started)}")


if __name__ == "__main__":
    main()
