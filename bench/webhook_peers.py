"""Webhook alone, aigov vs Gatekeeper (and Kyverno): open-loop fixed rates and rising concurrency with vegeta, A B A B.

Everything real, on loopback: etcd + kube-apiserver, aigov's webhook with its
OPA (unregistered: vegeta posts AdmissionReviews straight to it) and Gatekeeper
v3.23.1's manager with a ConstraintTemplate doing the same ungoverned detection
(devkit.peers). Three ~8 KB Deployment CREATE reviews (devkit.loadgen.CASES):
allowed (a web server), denied (an unlabelled vLLM server) and governed (the
vLLM server labelled with an approved AISystem: aigov runs its whole rule set,
Gatekeeper only sees a labelled workload).

With `--peers gatekeeper,kyverno`, Kyverno v1.19's admission controller too, with
ValidatingPolicies holding the ValidatingAdmissionPolicies' CEL (devkit.peers.kyverno),
posted to at the URL Kyverno registered for them; its ratio is `p99_ratio_kyverno` and the
results go to webhook_peers_kyverno.json.

Per case and rate, aigov and the peers run back to back, the order reversing
every pair, so machine load hits all alike; the p99 ratio aigov/Gatekeeper is
reported per pair. Then rising concurrency (vegeta workers, no rate limit) to
saturation. "Held" means p99 <= 10 ms with no errors. Before each run the
target must answer one review within 100 ms again (an overloaded run leaves a
backlog behind; vegeta gives up on a request after 5 s).

With `--gatekeeper-policy full` Gatekeeper runs aigov's whole decision instead
(devkit.peers.governed: aigov's own Rego over AISystems synced into
data.inventory), so the governed review is the same work on both sides; results
then go to webhook_peers_full.json.

    python bench/webhook_peers.py [--quick] [--duration S] [--rates 100,200,...] [--workers 1,4,...]
                                  [--gatekeeper-policy detection|full] [--peers gatekeeper,kyverno]
"""

from __future__ import annotations

import argparse
import json
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from aigov.core.config import Config
from devkit.devcluster import ControlPlane
from devkit.loadgen import CASES, Admin, Stats, aisystem, machine, review, save, start_aigov, vegeta
from devkit.peers import Gatekeeper, start_gatekeeper
from devkit.peers.kyverno import Kyverno, start_kyverno

NAMESPACE = "bench"
SYSTEM = "support-chatbot"
HELD_P99_MS = 10.0
EXPECTED = {"allowed": True, "denied": False, "governed": True}


def check(url: str, ca_pem: bytes, body: dict[str, Any], allowed: bool, timeout: float = 60) -> None:
    """The target answers the review as expected (else the numbers would compare different work), retried
    for `timeout` seconds (Gatekeeper's full policy needs the AISystem synced into its inventory first)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(verify=ssl.create_default_context(cadata=ca_pem.decode())) as client:
        while (answer := client.post(url, json=body).json()["response"])["allowed"] != allowed:
            if time.monotonic() > deadline:
                name = body["request"]["name"]
                raise SystemExit(f"{url}: expected allowed={allowed} for {name}, got {json.dumps(answer)}")
            time.sleep(1)


def drain(url: str, ca_pem: bytes, body: dict[str, Any], timeout: float = 90) -> None:
    """Until the target answers one review within 100 ms again: an overloaded run leaves a backlog behind."""
    deadline = time.monotonic() + timeout
    with httpx.Client(verify=ssl.create_default_context(cadata=ca_pem.decode()), timeout=5) as client:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                client.post(url, json=body)
            except httpx.HTTPError:
                continue
            if time.perf_counter() - start < 0.1:
                return
            time.sleep(0.5)
    raise SystemExit(f"{url} did not recover within {timeout:.0f}s")


def pair(
    targets: dict[str, tuple[str, bytes]], body: dict[str, Any], flip: bool, duration: float, **pace: int
) -> dict[str, Any]:
    """One A/B pair: both targets under the same load, in flipped order when `flip`."""
    names = list(targets)[::-1] if flip else list(targets)
    runs: dict[str, Stats] = {}
    for name in names:
        url, ca = targets[name]
        drain(url, ca, body)
        runs[name] = vegeta(url, body, ca_pem=ca, duration=duration, **pace)
    entry: dict[str, Any] = {name: runs[name].as_dict() for name in targets} | {"order": names}
    for peer, key in (("gatekeeper", "p99_ratio"), ("kyverno", "p99_ratio_kyverno")):
        if peer in runs and runs[peer].p99 > 0:
            entry[key] = round(runs["aigov"].p99 / runs[peer].p99, 3)
    return entry


def held(entries: list[dict[str, Any]], target: str) -> int:
    """The highest rate at which `target` kept p99 <= 10 ms without errors (0: none)."""
    good = [e["rate"] for e in entries if e[target]["p99"] <= HELD_P99_MS and e[target]["errors"] == 0]
    return max(good, default=0)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "duration_s": args.duration,
        "gatekeeper_policy": args.gatekeeper_policy,
        "peers": args.peers,
        "cases": {},
    }
    with ControlPlane(workdir / "controlplane") as cluster:
        webhook = start_aigov(cluster, workdir / "aigov")
        gatekeeper: Gatekeeper | None = None
        kyverno: Kyverno | None = None
        try:
            admin = Admin(cluster)
            admin.namespace(NAMESPACE)
            admin.aisystem(*aisystem(SYSTEM, NAMESPACE))
            full = args.gatekeeper_policy == "full"
            gatekeeper = start_gatekeeper(cluster, workdir / "gatekeeper", Config(), governed=full)
            targets = {
                "aigov": (f"{webhook.url}/validate", webhook.ca_pem),
                "gatekeeper": (f"{gatekeeper.url}/v1/admit", gatekeeper.ca_pem),
            }
            if "kyverno" in args.peers:
                kyverno = start_kyverno(cluster, workdir / "kyverno", Config())
                targets["kyverno"] = (kyverno.webhook_url(cluster), kyverno.ca_pem)
            for case in args.cases:
                body = review(case, NAMESPACE)
                for url, ca in targets.values():
                    check(url, ca, body, EXPECTED[case])
                    vegeta(url, body, ca_pem=ca, duration=min(2.0, args.duration), rate=50)  # warm-up
                rates = [
                    pair(targets, body, i % 2 == 1, args.duration, rate=r) | {"rate": r}
                    for i, r in enumerate(args.rates)
                ]
                concurrency = [
                    pair(targets, body, i % 2 == 0, args.duration, workers=w) | {"workers": w}
                    for i, w in enumerate(args.workers)
                ]
                results["cases"][case] = {
                    "bytes": len(json.dumps(body)),
                    "rates": rates,
                    "concurrency": concurrency,
                    "held_rate": {name: held(rates, name) for name in targets},
                    "saturation_rate": {name: max(e[name]["rate"] for e in concurrency) for name in targets},
                }
                print(summary(case, results["cases"][case]))
        finally:
            for peer in (gatekeeper, kyverno):
                if peer:
                    peer.stop()
            webhook.stop()
    return results


def summary(case: str, found: dict[str, Any]) -> str:
    lines = [f"{case} ({found['bytes']} B review):"]
    for entry in found["rates"]:
        runs = "  |  ".join(
            f"{name} p50 {s['p50']:6.2f} p99 {s['p99']:7.2f} err {s['errors']:>4}" for name, s in _runs(entry)
        )
        ratios = ", ".join(f"{k} {v}" for k, v in entry.items() if k.startswith("p99_ratio"))
        lines.append(f"  {entry['rate']:>5}/s  {runs}  |  {ratios}")
    for entry in found["concurrency"]:
        runs = "  |  ".join(f"{name} {s['rate']:7.0f}/s p99 {s['p99']:7.2f}" for name, s in _runs(entry))
        lines.append(f"  {entry['workers']:>3} workers  {runs}")
    lines.append(f"  held (p99 <= 10 ms): {found['held_rate']}; saturation: {found['saturation_rate']}")
    return "\n".join(lines)


def _runs(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, entry[name]) for name in entry["order"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s per point, one rate, one concurrency")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per point")
    parser.add_argument("--rates", default="25,50,100,200,400")
    parser.add_argument("--workers", default="1,4,16,64")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument(
        "--gatekeeper-policy",
        choices=("detection", "full"),
        default="detection",
        help="Gatekeeper's template: the ungoverned detection, or aigov's whole decision over synced AISystems",
    )
    parser.add_argument("--peers", default="gatekeeper", help="gatekeeper, or gatekeeper,kyverno")
    args = parser.parse_args()
    args.peers = args.peers.split(",")
    if set(args.peers) - {"gatekeeper", "kyverno"} or "gatekeeper" not in args.peers:
        parser.error(f"--peers: gatekeeper, optionally with kyverno (got {','.join(args.peers)})")
    args.rates = [int(r) for r in args.rates.split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    args.cases = args.cases.split(",")
    if args.quick:
        args.duration, args.rates, args.workers = 1.0, [50], [2]
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
        results = run(args, Path(workdir))
    name = "webhook_peers_full" if args.gatekeeper_policy == "full" else "webhook_peers"
    name += "_kyverno" if "kyverno" in args.peers else ""
    print(f"results: {save(name, results, args.quick, started)}")


if __name__ == "__main__":
    main()
