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

With `--paired SMALL,LARGE` (e.g. 10,10000) two control planes run side by side, one
with each number of AISystems and its own webhook, and the reviews alternate
between them in rounds (A B, B A, ...), so machine load hits both alike: the p99
at LARGE against the p99 at SMALL, over all rounds and per round (scale_paired.json).

    python bench/scale.py [--quick] [--sizes 10,1000,10000] [--bound 1000] [--requests N]
    python bench/scale.py --paired 10,10000 [--rounds R] [--requests N]
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


def samples(webhook: Webhook, case: str, requests: int) -> list[float]:
    """`requests` sequential reviews of `case` on one keep-alive connection (milliseconds each)."""
    body = review(case, NAMESPACE)
    context = ssl.create_default_context(cadata=webhook.ca_pem.decode())
    with httpx.Client(base_url=webhook.url, verify=context, timeout=10) as client:
        allowed = client.post("/validate", json=body).json()["response"]["allowed"]
        if allowed != EXPECTED[case]:
            raise SystemExit(f"{case}: expected allowed={EXPECTED[case]}, got {allowed}")
        found = []
        for _ in range(requests):
            start = time.perf_counter()
            client.post("/validate", json=body).raise_for_status()
            found.append((time.perf_counter() - start) * 1000)
    return found


def measure(webhook: Webhook, requests: int) -> dict[str, Any]:
    """Sequential reviews per case (milliseconds) and the resident memory of the webhook and its OPA (MiB)."""
    found: dict[str, Any] = {case: percentiles(samples(webhook, case, requests)).as_dict() for case in CASES}
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


def paired(small: int, large: int, rounds: int, requests: int, workdir: Path) -> dict[str, Any]:
    """Two clusters (`small` and `large` AISystems), reviews alternating between their webhooks round by round."""
    with ControlPlane(workdir / "small") as a, ControlPlane(workdir / "large") as b:
        webhooks: dict[str, Webhook] = {}
        try:
            for name, cluster, size in (("small", a, small), ("large", b, large)):
                webhooks[name] = start_aigov(cluster, workdir / f"aigov-{name}")
                admin = Admin(cluster)
                admin.namespace(NAMESPACE)
                admin.aisystem(*aisystem(SYSTEM, NAMESPACE))
                create_systems(cluster, NAMESPACE, 1, size)
                settle(webhooks[name], 60)
            taken: dict[str, dict[str, list[float]]] = {case: {"small": [], "large": []} for case in CASES}
            ratios: dict[str, list[float]] = {case: [] for case in CASES}
            for round_ in range(rounds):
                for case in CASES:
                    order = ["small", "large"] if round_ % 2 == 0 else ["large", "small"]
                    this = {name: samples(webhooks[name], case, requests) for name in order}
                    for name, found in this.items():
                        taken[case][name] += found
                    ratios[case].append(round(percentiles(this["large"]).p99 / percentiles(this["small"]).p99, 3))
            results: dict[str, Any] = {"sizes": [small, large], "rounds": rounds, "requests_per_round": requests}
            for case in CASES:
                stats = {name: percentiles(found) for name, found in taken[case].items()}
                results[case] = {name: stat.as_dict() for name, stat in stats.items()} | {
                    "p99_ratio": round(stats["large"].p99 / stats["small"].p99, 3),
                    "round_p99_ratios": ratios[case],
                }
            results["webhook_rss_mib"] = {n: round(rss_mib(w.server.process.pid), 1) for n, w in webhooks.items()}
            return results
        finally:
            for webhook in webhooks.values():
                webhook.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 and 30 systems, 30 bound, 20 requests")
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--bound", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500, help="sequential reviews per case and size (or round)")
    parser.add_argument("--paired", metavar="SMALL,LARGE", help="two clusters side by side, reviews alternating")
    parser.add_argument("--rounds", type=int, default=6, help="with --paired: rounds of A B / B A")
    args = parser.parse_args()
    if args.paired:
        small, large = (10, 30) if args.quick else (int(s) for s in args.paired.split(","))
        rounds, requests = (2, 10) if args.quick else (args.rounds, args.requests)
        started = machine()
        with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
            found = paired(small, large, rounds, requests, Path(workdir))
        for case in CASES:
            small_p99, large_p99 = found[case]["small"]["p99"], found[case]["large"]["p99"]
            print(f"{case:9} p99 {small_p99} -> {large_p99} ms: {found[case]['p99_ratio']}")
        print(f"results: {save('scale_paired', found, args.quick, started)}")
        return
    sizes, bound, requests = [int(s) for s in args.sizes.split(",")], args.bound, args.requests
    if args.quick:
        sizes, bound, requests = [10, 30], 30, 20
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
        results = run(sizes, bound, requests, Path(workdir))
    print(f"results: {save('scale', results, args.quick, started)}")


if __name__ == "__main__":
    main()
