"""Through the API server: server-side dry-run creates with no policy, with aigov, Gatekeeper, the VAP or Kyverno.

One local control plane with all of them registered at once, each confined to its
own namespace: `b-none` and the peers' namespaces are labelled
`bench.aigov.io/peer=<mode>`, which aigov's registration here excludes (not
`aigov.io/enforcement=off`: Gatekeeper running aigov's whole decision would read
it and allow); Gatekeeper's webhook and constraint, and the
ValidatingAdmissionPolicies, and Kyverno's ValidatingPolicies (the VAPs' CEL, registered
by Kyverno as a `url:` webhook; devkit.peers.kyverno), select only the namespace labelled
with theirs (devkit.peers). Per case of
devkit.loadgen.CASES, N rounds of one dry-run CREATE per mode, the order
rotating every round so load hits all alike; one keep-alive client as the admin,
timed client-side. Over each case's window: the API server's own
`apiserver_admission_webhook_admission_duration_seconds` (aigov, Gatekeeper, Kyverno) and
`apiserver_validating_admission_policy_check_duration_seconds` (VAP), estimated
from buckets (p50/p99 with the bucket they fall in).

With `--gatekeeper-policy full` Gatekeeper runs aigov's whole decision (devkit.peers.governed) over an
AISystem of its own namespace synced into data.inventory; results go to apiserver_peers_full.json.
Kyverno is a mode only when named in `--modes` (then `_kyverno` is added to the results' name).

    python bench/apiserver_peers.py [--quick] [--count N] [--modes none,aigov,gatekeeper,vap,kyverno]
                                    [--gatekeeper-policy detection|full]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

from aigov.core.config import Config
from aigov.install.admission import WORKLOADS_WEBHOOK, Registration, UrlClient, webhook_configuration
from devkit.devcluster import ControlPlane
from devkit.devstack import apply
from devkit.histograms import delta, histogram_quantile, scrape_buckets
from devkit.loadgen import CASES, Admin, aisystem, deployment, machine, percentiles, renamed, save, start_aigov
from devkit.peers import GATEKEEPER_WEBHOOK, start_gatekeeper, ungoverned_policies
from devkit.peers.kyverno import DENIED, KYVERNO_WEBHOOK, start_kyverno

PEER_LABEL = "bench.aigov.io/peer"
MODES = ("none", "aigov", "gatekeeper", "vap", "kyverno")
DEFAULT_MODES = MODES[:4]
"""Kyverno (the stretch peer) only when asked for: its runs go to apiserver_peers_kyverno.json."""
SYSTEM = "support-chatbot"
WEBHOOK_METRIC = "apiserver_admission_webhook_admission_duration_seconds"
VAP_METRIC = "apiserver_validating_admission_policy_check_duration_seconds"
# What each mode should answer per case (HTTP status of the dry-run create).
EXPECTED = {"none": {"denied": 201}} | {m: {"denied": 403} for m in MODES[1:]} | {"kyverno": {"denied": DENIED}}


def namespace(mode: str) -> str:
    return f"b-{mode}"


def selector(mode: str) -> dict[str, Any]:
    return {"matchLabels": {PEER_LABEL: mode}}


class Stoppable(Protocol):
    def stop(self) -> None: ...


def setup(
    cluster: ControlPlane, admin: Admin, modes: list[str], workdir: Path, servers: list[Stoppable], *, full: bool
) -> None:
    """Namespaces, the approved AISystem, and each mode's registration (`full`: Gatekeeper runs aigov's decision);
    the servers it starts go to `servers` as they start, for the caller to stop even when a later one fails."""
    config = Config()
    for mode in modes:
        admin.namespace(namespace(mode), {} if mode == "aigov" else {PEER_LABEL: mode})
    if "aigov" in modes:
        webhook = start_aigov(cluster, workdir / "aigov")
        servers.append(webhook)
        admin.aisystem(*aisystem(SYSTEM, namespace("aigov")))
        registration = webhook_configuration(Registration(UrlClient(webhook.url, webhook.ca_pem)), config)
        for hook in registration["webhooks"]:
            hook["namespaceSelector"]["matchExpressions"].append({"key": PEER_LABEL, "operator": "DoesNotExist"})
        apply(cluster, registration)
    if "gatekeeper" in modes:
        if full:
            admin.aisystem(*aisystem(SYSTEM, namespace("gatekeeper")))
        gatekeeper = start_gatekeeper(cluster, workdir / "gatekeeper", config, selector("gatekeeper"), governed=full)
        servers.append(gatekeeper)
        apply(cluster, gatekeeper.registration(config, selector("gatekeeper")))
    if "vap" in modes:
        apply(cluster, *ungoverned_policies(config, selector("vap")))
    if "kyverno" in modes:
        servers.append(start_kyverno(cluster, workdir / "kyverno", config, selector("kyverno")))


def create(admin: Admin, mode: str, body: dict[str, Any]) -> tuple[int, float]:
    """A dry-run CREATE in `mode`'s namespace: (HTTP status, milliseconds)."""
    start = time.perf_counter()
    response = admin.client.post(
        f"/apis/apps/v1/namespaces/{namespace(mode)}/deployments", json=body, params={"dryRun": "All"}
    )
    return response.status_code, (time.perf_counter() - start) * 1000


def wait_expected(admin: Admin, modes: list[str], timeout: float = 60) -> None:
    """Until every mode answers every case as it should (registrations take a moment to reach the API server)."""
    deadline = time.monotonic() + timeout
    pending = {(m, c) for m in modes for c in CASES}
    while pending and time.monotonic() < deadline:
        for mode, case in sorted(pending):
            if create(admin, mode, deployment(case))[0] == EXPECTED[mode].get(case, 201):
                pending.discard((mode, case))
        time.sleep(0.2)
    if pending:
        raise SystemExit(f"not answering as expected within {timeout:.0f}s: {sorted(pending)}")


def histograms(text: str) -> dict[str, Any]:
    return {
        "aigov": scrape_buckets(text, WEBHOOK_METRIC, {"name": WORKLOADS_WEBHOOK}),
        "gatekeeper": scrape_buckets(text, WEBHOOK_METRIC, {"name": GATEKEEPER_WEBHOOK}),
        "vap": scrape_buckets(text, VAP_METRIC, {}),
        "kyverno": scrape_buckets(text, WEBHOOK_METRIC, {"name": KYVERNO_WEBHOOK}),
    }


def measure(admin: Admin, modes: list[str], count: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for case in CASES:
        samples: dict[str, list[float]] = {m: [] for m in modes}
        errors = dict.fromkeys(modes, 0)
        before = histograms(admin.send("GET", "/metrics").text)
        for i in range(count):
            body = renamed(deployment(case), f"d-{i:05d}")
            for mode in modes[i % len(modes) :] + modes[: i % len(modes)]:
                status, ms = create(admin, mode, body)
                samples[mode].append(ms)
                errors[mode] += status != EXPECTED[mode].get(case, 201)
        after = histograms(admin.send("GET", "/metrics").text)
        found[case] = {
            "client_ms": {m: percentiles(samples[m], errors[m]).as_dict() for m in modes},
            "apiserver_ms": {},
        }
        for name, buckets in after.items():
            window = delta(buckets, before[name])
            if window.get(float("inf"), 0) > 0:
                q50, q99 = histogram_quantile(0.5, window), histogram_quantile(0.99, window)
                found[case]["apiserver_ms"][name] = {
                    "n": window[float("inf")],
                    "p50": round(q50.value * 1000, 3),
                    "p99": round(q99.value * 1000, 3),
                    "p99_bucket": [q99.lower * 1000, q99.upper * 1000],
                }
        print(case, {m: (s["p50"], s["p99"]) for m, s in found[case]["client_ms"].items()}, found[case]["apiserver_ms"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 creates per case and mode")
    parser.add_argument("--count", type=int, default=300, help="creates per case and mode")
    parser.add_argument("--modes", default=",".join(DEFAULT_MODES), help=f"of {','.join(MODES)}")
    parser.add_argument(
        "--gatekeeper-policy",
        choices=("detection", "full"),
        default="detection",
        help="Gatekeeper's template: the ungoverned detection, or aigov's whole decision over synced AISystems",
    )
    args = parser.parse_args()
    modes = args.modes.split(",")
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    count = 5 if args.quick else args.count
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as tmp, ControlPlane(Path(tmp) / "cp") as cluster:
        admin = Admin(cluster)
        full = args.gatekeeper_policy == "full"
        servers: list[Stoppable] = []
        try:
            setup(cluster, admin, modes, Path(tmp), servers, full=full)
            wait_expected(admin, modes)
            measure(admin, modes, min(count, 20))  # warm-up
            cases = measure(admin, modes, count)
            results = {"count": count, "modes": modes, "gatekeeper_policy": args.gatekeeper_policy, "cases": cases}
        finally:
            for server in servers:
                server.stop()
    name = "apiserver_peers_full" if args.gatekeeper_policy == "full" else "apiserver_peers"
    name += "_kyverno" if "kyverno" in modes else ""
    print(f"results: {save(name, results, args.quick, started)}")


if __name__ == "__main__":
    main()
