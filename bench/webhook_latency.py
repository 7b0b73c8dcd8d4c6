"""Admission latency of a Deployment CREATE through a real kube-apiserver, webhook on vs off: median and p99.

Everything real, on loopback: etcd + kube-apiserver, OPA, the aigov webhook and
operator (`devkit.devstack.start_stack`). One namespace holds the approved
`support-chatbot` AISystem (samples/minimal-chatbot.yaml, assessed by `alice`
and approved by `bob` through `kubectl aigov`, as in `make demo`); the other is
labelled `aigov.io/enforcement=off`, which the webhook's namespaceSelector
excludes, so the API server never calls the webhook there.

N sequential CREATEs of the governed Deployment (samples/workloads/support-chatbot.yaml,
admitted) and N of a plain non-AI Deployment of the same shape in the excluded
namespace, interleaved so machine load hits both alike: each one a POST by one
keep-alive HTTP client with the admin's client certificate, timed client-side.
They are server-side dry runs (`dryRun=All`): the whole admission chain runs and
the API server records its webhook metrics, but nothing is stored, so the
operator is not busy binding hundreds of new workloads to one system while the
webhook is measured. `--persist` stores them instead (the operator then rewrites
the system's `status.boundWorkloads` on every create, which the numbers show).

Then, over exactly the measured window (the difference of two scrapes), the
median and p99 of the webhook as the API server saw it
(`apiserver_admission_webhook_admission_duration_seconds`, the `workloads.aigov.io`
validating webhook, CREATE, not rejected) and as the webhook saw itself
(`aigov_admission_duration_seconds`). Both are estimates from cumulative
buckets, interpolated linearly inside the bucket the quantile falls in (as
PromQL's histogram_quantile does), so the bucket bounds are printed with them.

    python bench/webhook_latency.py [--count N] [--persist]
"""

from __future__ import annotations

import argparse
import copy
import math
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from aigov.core.config import ENFORCEMENT_LABEL, Config
from devkit.devcluster import LOOPBACK, ControlPlane, User
from devkit.devstack import REPO, Stack, start_stack
from devkit.histograms import Buckets, Estimate, delta, histogram_quantile, scrape_buckets

KUBECTL_AIGOV = Path(sys.executable).parent / "kubectl-aigov"
GOVERNED_NS, BASELINE_NS = "bench-governed", "bench-off"
SYSTEM = "support-chatbot"
WEBHOOK = "workloads.aigov.io"
APISERVER_METRIC = "apiserver_admission_webhook_admission_duration_seconds"
WEBHOOK_METRIC = "aigov_admission_duration_seconds"
WARMUP = 20


def label_names(text: str, family: str) -> set[str]:
    """Every label name the histogram `family` carries (besides `le`)."""
    return {
        name
        for metric in text_string_to_metric_families(text)
        if metric.name == family
        for sample in metric.samples
        for name in sample.labels
        if name != "le"
    }


def governed_deployment() -> dict[str, Any]:
    """The sample Deployment of the approved `support-chatbot` system."""
    loaded: dict[str, Any] = yaml.safe_load((REPO / "samples/workloads/support-chatbot.yaml").read_text())
    return loaded


def plain_deployment() -> dict[str, Any]:
    """A non-AI Deployment of the same shape: web server and mesh sidecar, no system label."""
    body = governed_deployment()
    template = body["spec"]["template"]
    template["metadata"]["labels"] = {"app": "web"}
    body["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    template["spec"]["containers"][0] = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080}]}
    return body


class Api:
    """One keep-alive HTTPS client as the admin (client certificate)."""

    def __init__(self, cluster: ControlPlane) -> None:
        context = ssl.create_default_context(cafile=str(cluster.ca_file))
        context.load_cert_chain(cluster.pki_dir / "aigov-admin.crt", cluster.pki_dir / "aigov-admin.key")
        self.client = httpx.Client(base_url=cluster.url, verify=context, timeout=30)

    def create(self, namespace: str, body: dict[str, Any], name: str, dry_run: bool = False) -> tuple[int, float]:
        """POST a Deployment named `name`; (HTTP status, seconds)."""
        obj = copy.deepcopy(body)
        obj["metadata"]["name"] = name
        params = {"dryRun": "All"} if dry_run else None
        start = time.perf_counter()
        response = self.client.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", json=obj, params=params)
        elapsed = time.perf_counter() - start
        if response.status_code != 201 and not dry_run:
            raise RuntimeError(f"create {namespace}/{name}: HTTP {response.status_code}: {response.text[:500]}")
        return response.status_code, elapsed

    def metrics(self) -> str:
        """The API server's /metrics."""
        response = self.client.get("/metrics")
        response.raise_for_status()
        return response.text


def approve_system(stack: Stack) -> None:
    """Register the sample AISystem and record its assessment and approval as two people (as `make demo` does)."""
    identity = Config().identity
    alice = stack.person("alice", "aigov-assessor", groups=(identity.assessor_groups[0],))
    bob = stack.person("bob", "aigov-approver", groups=(identity.approver_groups[0],))
    stack.cluster.kubectl("apply", "-n", GOVERNED_NS, "-f", str(REPO / "samples/minimal-chatbot.yaml"))
    aigov(
        alice,
        "assess", SYSTEM, "-n", GOVERNED_NS, "--reference", "https://docs.example.com/ia/support-chatbot.pdf",
        "--sha256", "ab" * 32, "--expires", "365d", "--residual-risk", "low",
    )  # fmt: skip
    aigov(
        bob,
        "approve", SYSTEM, "-n", GOVERNED_NS, "--role", "product-owner", "--expires", "180d",
        "--justification", "benchmark",
    )  # fmt: skip


def aigov(user: User, *args: str) -> None:
    """`kubectl aigov ARGS` as `user`."""
    result = subprocess.run(
        [str(KUBECTL_AIGOV), *args, f"--kubeconfig={user.kubeconfig}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl aigov {' '.join(args)} as {user.name} failed:\n{result.stdout}{result.stderr}")


def wait_admitted(api: Api, body: dict[str, Any], timeout: float = 30) -> None:
    """Until the webhook's watch cache has the approval: a dry-run create of the governed Deployment is admitted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _ = api.create(GOVERNED_NS, body, "probe", dry_run=True)
        if status == 201:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the governed Deployment was not admitted within {timeout:.0f}s")


def measure(api: Api, count: int, offset: int = 0, persist: bool = False) -> tuple[list[float], list[float]]:
    """Interleaved creates (the order flips every pair); client-side seconds (webhook on, webhook off)."""
    governed, plain = governed_deployment(), plain_deployment()
    on: list[float] = []
    off: list[float] = []
    for i in range(offset, offset + count):
        runs = [(GOVERNED_NS, governed, on), (BASELINE_NS, plain, off)]
        for namespace, body, samples in runs if i % 2 == 0 else reversed(runs):
            samples.append(api.create(namespace, body, f"d-{i:05d}", dry_run=not persist)[1])
    return on, off


def p99(samples: Sequence[float]) -> float:
    """The 99th percentile (inclusive method, as bench/policy_latency.py)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def bucket_ms(estimate: Estimate) -> str:
    return f"{ms(estimate.value)} (in bucket {estimate.lower * 1000:g}-{estimate.upper * 1000:g} ms)"


def report(count: int, on: list[float], off: list[float], apiserver: Buckets, webhook: Buckets) -> None:
    """Print the table."""
    print(f"Deployment CREATE through kube-apiserver, {count} each, interleaved, sequential, one keep-alive client")
    print(f"{'':44}{'median':>11}  {'p99':>11}")
    on_med, off_med = statistics.median(on), statistics.median(off)
    print(f"{'client round trip, webhook on (admitted)':44}{ms(on_med)}  {ms(p99(on))}")
    print(f"{'client round trip, webhook off (excluded ns)':44}{ms(off_med)}  {ms(p99(off))}")
    print(f"{'ratio on/off':44}{on_med / off_med:9.2f}x  {p99(on) / p99(off):9.2f}x")
    print(f"{'difference on-off':44}{ms(on_med - off_med)}  {ms(p99(on) - p99(off))}")
    for title, buckets in (
        (f"{APISERVER_METRIC}, n={buckets_total(apiserver):.0f}", apiserver),
        (f"{WEBHOOK_METRIC}, n={buckets_total(webhook):.0f}", webhook),
    ):
        print(f"{title} (estimated from buckets):")
        print(f"  observations per bucket: {distribution(buckets)}")
        print(f"  median {bucket_ms(histogram_quantile(0.5, buckets))}")
        print(f"  p99    {bucket_ms(histogram_quantile(0.99, buckets))}")


def distribution(buckets: Buckets) -> str:
    """Non-cumulative counts per bucket, e.g. `<=5ms: 3, 5-25ms: 497` (empty buckets left out)."""
    parts, lower, below = [], 0.0, 0.0
    for upper in sorted(buckets):
        count = buckets[upper] - below
        if count:
            span = f">{lower * 1000:g}ms" if math.isinf(upper) else f"{lower * 1000:g}-{upper * 1000:g}ms"
            parts.append(f"{span}: {count:.0f}")
        lower, below = upper, buckets[upper]
    return ", ".join(parts)


def buckets_total(buckets: Buckets) -> float:
    return buckets.get(math.inf, 0.0)


def run(count: int, workdir: Path, persist: bool) -> None:
    with ControlPlane(workdir / "controlplane") as cluster:
        stack = start_stack(cluster, workdir / "aigov")
        try:
            cluster.kubectl("create", "namespace", GOVERNED_NS)
            cluster.kubectl("create", "namespace", BASELINE_NS)
            cluster.kubectl("label", "namespace", BASELINE_NS, f"{ENFORCEMENT_LABEL}=off")
            approve_system(stack)
            api = Api(cluster)
            webhook_metrics = httpx.Client(base_url=f"http://{LOOPBACK}:{stack.webhook.metrics_port}", timeout=10)
            try:
                wait_admitted(api, governed_deployment())
                measure(api, WARMUP, offset=count, persist=persist)
                text = api.metrics()
                print(f"{APISERVER_METRIC} labels: {sorted(label_names(text, APISERVER_METRIC))}")
                selector = {"name": WEBHOOK, "operation": "CREATE", "type": "validating", "rejected": "false"}
                api_before = scrape_buckets(text, APISERVER_METRIC, selector)
                hook_before = scrape_buckets(webhook_metrics.get("/metrics").text, WEBHOOK_METRIC, {})
                on, off = measure(api, count, persist=persist)
                api_window = delta(scrape_buckets(api.metrics(), APISERVER_METRIC, selector), api_before)
                hook_text = webhook_metrics.get("/metrics").text
                hook_window = delta(scrape_buckets(hook_text, WEBHOOK_METRIC, {}), hook_before)
            finally:
                webhook_metrics.close()
                api.client.close()
            for name, buckets in ((APISERVER_METRIC, api_window), (WEBHOOK_METRIC, hook_window)):
                if buckets_total(buckets) != count:
                    print(f"note: {name} counted {buckets_total(buckets):.0f} observations in the window, not {count}")
            report(count, on, off, api_window, hook_window)
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500, help="creates per side (webhook on, webhook off)")
    parser.add_argument("--persist", action="store_true", help="store the Deployments instead of dry-run creates")
    args = parser.parse_args()
    if args.count < 2:
        parser.error("--count must be at least 2")
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
        run(args.count, Path(workdir), args.persist)


if __name__ == "__main__":
    main()
