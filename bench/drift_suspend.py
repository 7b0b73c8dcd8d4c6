"""Breach-to-zero-replicas time (median over N runs) and the operator's CPU and memory with many monitored systems.

Everything real, on loopback: etcd + kube-apiserver, Prometheus scraping an
exporter every second, `aigov operator` as a subprocess.

1. Breach to zero: per run, a fresh AISystem (one check, `for: 0s`,
   `intervalSeconds` 10) and a bound Deployment of 2 replicas; once the check
   has been evaluated ok, the exported value breaches. Measured from the moment
   Prometheus answers the breaching value to the moment the Deployment's
   `spec.replicas` reads 0 (polled every 20 ms), and the operator's own share:
   from the suspension's `since` (the evaluation that decided) to zero replicas.
   The breach lands at a random point of the check's interval, so the first
   figure is about half an interval plus the operator's share (at most one
   interval plus it).
2. Load: N monitored AISystems (one check each at the given interval, one
   bound Deployment each), then the operator's CPU (utime+stime from /proc)
   averaged over a window after the initial reconciliation, and its RSS.

    python bench/drift_suspend.py [--runs 10] [--systems 100] [--interval 60] [--window 120]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import ssl
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from aigov.operator.environment import operator_env
from devkit.devcluster import LOOPBACK, ControlPlane, PrometheusServer, Server, free_port, start_prometheus, wait_until

REPO = Path(__file__).resolve().parents[1]
AIGOV = Path(sys.executable).parent / "aigov"
NAMESPACE = "bench"
METRIC = "aigov_bench_drift"
VALUES: dict[str, float] = {}
INTERVAL = 10
PHASE = random.Random(42)


class _Exporter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        lines = [f'{METRIC}{{case="{case}"}} {value}' for case, value in list(VALUES.items())]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def query(case: str) -> str:
    return f'max({METRIC}{{case="{case}"}})'


def system(name: str, interval: int, hold: str = "0s") -> dict[str, Any]:
    check = {"name": "psi", "query": query(name), "comparator": ">", "threshold": 0.25, "for": hold}
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "purpose": "benchmark",
            "riskTier": "minimal",
            "monitoring": {"intervalSeconds": interval, "checks": [check | {"action": "suspend"}]},
        },
    }


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"aigov.io/system": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "m", "image": "vllm/vllm-openai:v0"}]},
            },
        },
    }


class Api:
    """Fast GETs against the API server as the admin (kubectl is too slow to poll with)."""

    def __init__(self, kube: ControlPlane) -> None:
        context = ssl.create_default_context(cafile=str(kube.ca_file))
        context.load_cert_chain(kube.pki_dir / "aigov-admin.crt", kube.pki_dir / "aigov-admin.key")
        self.client = httpx.Client(base_url=kube.url, verify=context, timeout=10)

    def replicas(self, name: str) -> int:
        spec = self.client.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}").json()["spec"]
        return int(spec.get("replicas") or 0)

    def status(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = (
            self.client.get(f"/apis/aigov.io/v1alpha1/namespaces/{NAMESPACE}/aisystems/{name}").json().get("status")
            or {}
        )
        return found


def until(probe: Any, timeout: float, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(step)
    raise TimeoutError(f"not within {timeout}s: {probe}")


def prometheus_has(prometheus: PrometheusServer, case: str, value: float) -> bool:
    result = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": query(case)}).json()["data"]["result"]
    return bool(result) and float(result[0]["value"][1]) == value


def apply(kube: ControlPlane, *objects: dict[str, Any]) -> None:
    kube.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def check_state(api: Api, name: str) -> str | None:
    checks = (api.status(name).get("monitoring") or {}).get("checks") or [{}]
    state: str | None = checks[0].get("state")
    return state


def one_run(kube: ControlPlane, api: Api, prometheus: PrometheusServer, name: str) -> tuple[float, float]:
    """(breach visible in Prometheus -> zero replicas, suspension decided -> zero replicas), in seconds."""
    VALUES[name] = 0.1
    until(lambda: prometheus_has(prometheus, name, 0.1), 30, 0.2)
    apply(kube, system(name, INTERVAL), deployment(name))
    until(lambda: check_state(api, name) == "ok", 30, 0.1)
    time.sleep(PHASE.uniform(0, INTERVAL))  # land the breach anywhere in the check's interval
    VALUES[name] = 0.9
    until(lambda: prometheus_has(prometheus, name, 0.9), 30, 0.02)
    seen = time.time()
    until(lambda: api.replicas(name) == 0, 30)
    zero = time.time()
    since = datetime.fromisoformat(api.status(name)["suspension"]["since"].replace("Z", "+00:00")).timestamp()
    return zero - seen, zero - since


def breach_to_zero(kube: ControlPlane, api: Api, prometheus: PrometheusServer, runs: int) -> None:
    total, operator_share = [], []
    for run in range(runs):
        visible, decided = one_run(kube, api, prometheus, f"run-{run}")
        total.append(visible)
        operator_share.append(decided)
        print(f"  run {run + 1}: breach visible -> 0 replicas {visible:5.2f}s; decision -> 0 replicas {decided:.3f}s")
    print(
        f"breach-to-zero-replicas (intervalSeconds {INTERVAL}, for 0s): median {statistics.median(total):.2f}s, "
        f"max {max(total):.2f}s over {runs} runs"
    )
    print(f"operator decision-to-zero-replicas: median {statistics.median(operator_share) * 1000:.0f} ms")


def load(kube: ControlPlane, operator: Server, systems: int, interval: int, window: float) -> None:
    names = [f"load-{i:03d}" for i in range(systems)]
    for name in names:
        VALUES[name] = 0.1
    apply(kube, *(obj for name in names for obj in (system(name, interval), deployment(name))))
    pid = operator.process.pid
    settle = max(2.0 * interval, 30.0)
    print(f"{systems} monitored AISystems applied; letting the operator settle for {settle:.0f}s")
    time.sleep(settle)
    before, started = cpu_seconds(pid), time.monotonic()
    peak = rss_mib(pid)
    while time.monotonic() - started < window:
        time.sleep(1)
        peak = max(peak, rss_mib(pid))
    used = cpu_seconds(pid) - before
    elapsed = time.monotonic() - started
    print(
        f"operator with {systems} monitored AISystems (intervalSeconds {interval}, one bound Deployment each): "
        f"CPU {100 * used / elapsed:.1f}% of one core (avg over {elapsed:.0f}s), RSS {rss_mib(pid):.0f} MiB "
        f"(peak {peak:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--systems", type=int, default=100)
    parser.add_argument("--interval", type=int, default=60, help="intervalSeconds of the load systems")
    parser.add_argument("--window", type=float, default=120.0, help="seconds of CPU sampling")
    args = parser.parse_args()

    exporter = ThreadingHTTPServer((LOOPBACK, 0), _Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as tmp, ControlPlane(Path(tmp) / "cp") as kube:
        prometheus = start_prometheus(Path(tmp) / "prometheus")
        prometheus.set_targets([f"{LOOPBACK}:{exporter.server_address[1]}"])
        kube.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        kube.wait_established("aisystems.aigov.io")
        kube.kubectl("create", "namespace", NAMESPACE)
        liveness = f"http://{LOOPBACK}:{free_port()}/healthz"
        operator = Server.start(
            "operator",
            [
                AIGOV, "operator", f"--kubeconfig={kube.kubeconfig}", "--standalone", f"--liveness={liveness}",
                f"--prometheus-url={prometheus.url}", f"--metrics-port={free_port()}", f"--metrics-host={LOOPBACK}",
            ],
            Path(tmp),
            operator_env(),  # as the chart runs it
        )  # fmt: skip
        try:
            with httpx.Client() as probe:
                wait_until(operator, probe, liveness, 60)
            api = Api(kube)
            breach_to_zero(kube, api, prometheus, args.runs)
            load(kube, operator, args.systems, args.interval, args.window)
        finally:
            operator.stop(timeout=20)
            prometheus.server.stop()
            exporter.shutdown()


if __name__ == "__main__":
    main()
