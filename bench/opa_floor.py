"""The floor under aigov's webhook: the same decisions straight to OPA, over HTTP and as OPA's own evaluation time.

A real OPA with aigov's policies loaded (as the webhook loads them). For each
case of devkit.loadgen.CASES the input document the webhook would build
(`aigov.policy.input.build`: the ~8 KB review, the AISystem for the governed
case, the namespace, the time; the configuration is bundle data) is POSTed N
times, sequentially, on
one keep-alive connection to `/v1/data/aigov/admission/decision?metrics=true`:
the client round trip, and `timer_rego_query_eval_ns` from OPA's answer (the
Rego evaluation alone), and OPA's own CPU time per decision (from
/proc/PID/stat: HTTP, JSON decoding and evaluation; less inflated than wall
clock when other work shares the machine). Compare with bench/webhook_peers.py to see how much of a
webhook decision is aigov's Python and how much is Rego.

    python bench/opa_floor.py [--quick] [--queries N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aigov.policy.input import Namespace, build
from aigov.policy.opa import PACKAGE, RULE
from devkit.devcluster import run_opa
from devkit.loadgen import CASES, aisystem, machine, percentiles, review, save

NAMESPACE = "bench"
EXPECTED = {"allowed": True, "denied": False, "governed": True}


def document(case: str) -> dict[str, Any]:
    """The policy input of `case`, as the webhook builds it."""
    obj, status = aisystem("support-chatbot", NAMESPACE)
    system = obj | {"status": status} if case == "governed" else None
    return build(review(case, NAMESPACE)["request"], system, Namespace(NAMESPACE), datetime.now(UTC))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, queries: int, pid: int) -> dict[str, Any]:
    """Per case: input size, client round trip and OPA evaluation (milliseconds), OPA CPU per decision (µs)."""
    found: dict[str, Any] = {}
    path = f"/v1/data/{PACKAGE.replace('.', '/')}/{RULE}"
    with httpx.Client(base_url=url, timeout=10) as client:
        for case in CASES:
            body = {"input": document(case)}
            answer = client.post(path, json=body).json()["result"]
            if answer["allowed"] != EXPECTED[case]:
                raise SystemExit(f"{case}: expected allowed={EXPECTED[case]}, got {answer}")
            for _ in range(min(100, queries)):
                client.post(path, json=body, params={"metrics": "true"})
            round_trips, evaluations = [], []
            cpu_before = cpu_seconds(pid)
            for _ in range(queries):
                start = time.perf_counter()
                response = client.post(path, json=body, params={"metrics": "true"})
                round_trips.append((time.perf_counter() - start) * 1000)
                evaluations.append(response.json()["metrics"]["timer_rego_query_eval_ns"] / 1e6)
            cpu_us = (cpu_seconds(pid) - cpu_before) / queries * 1e6
            found[case] = {
                "input_bytes": len(json.dumps(body).encode()),
                "opa_cpu_us_per_decision": round(cpu_us, 1),
                "round_trip_ms": percentiles(round_trips).as_dict(),
                "evaluation_ms": percentiles(evaluations).as_dict(),
            }
            rt, ev = found[case]["round_trip_ms"], found[case]["evaluation_ms"]
            print(
                f"{case:9} OPA HTTP round trip p50 {rt['p50']:.3f} p99 {rt['p99']:.3f} ms; "
                f"evaluation p50 {ev['p50'] * 1000:.0f} p99 {ev['p99'] * 1000:.0f} µs; "
                f"OPA CPU {cpu_us:.0f} µs/decision; input {found[case]['input_bytes']} B"
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 queries per case")
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    queries = 20 if args.quick else args.queries
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir, run_opa(Path(workdir)) as opa:
        results = measure(opa.url, queries, opa.server.process.pid)
    print(f"results: {save('opa_floor', {'queries': queries, 'cases': results}, args.quick, started)}")


if __name__ == "__main__":
    main()
