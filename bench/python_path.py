"""aigov's own Python per admission review, without the network: what the webhook adds to OPA's work.

`Admission.review` in-process on the three ~8 KB reviews of devkit.loadgen.CASES:
parse and check the AdmissionReview, resolve the AISystem (from a dict, as from the
watch cache), build the policy input and encode it as the OPA client does, map a
fixed decision to the response, count it and write the hash-chained decision log
line (to /dev/null). No server, TLS or OPA round trip: those are in
webhook_peers and opa_floor. Per review: median and p99 of `rounds` batch means
(microseconds per review), on one core, after a warm-up.

    python bench/python_path.py [--quick] [--reviews N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
from typing import Any

import orjson

from aigov.core.config import Config
from aigov.policy.decision import AdmissionDecision
from aigov.webhook.admission import Admission
from devkit.loadgen import CASES, aisystem, machine, review, save

NAMESPACE = "bench"
SYSTEM = "support-chatbot"


class _Cluster:
    """The watch cache's answers, from memory."""

    def __init__(self) -> None:
        obj, status = aisystem(SYSTEM, NAMESPACE)
        self.system = obj | {"status": status}

    async def aisystem(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.system if name == SYSTEM else None

    async def namespace(self, name: str) -> dict[str, Any]:
        return {"labels": {}}

    async def scale_target(self, request: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def namespace_exceptions(self, namespace: str) -> list[dict[str, Any]]:
        return []


class _Decider:
    """Encodes the input as the OPA client does; decides by the case (OPA's work is not measured here)."""

    def __init__(self, allowed: bool) -> None:
        self.decision = AdmissionDecision(allowed=allowed, mode="enforce")

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision:
        orjson.dumps({"input": document})
        return self.decision


async def _measure(case: str, reviews: int, rounds: int) -> dict[str, float]:
    admission = Admission(_Cluster(), _Decider(case != "denied"), Config())
    body = orjson.dumps(review(case, NAMESPACE))
    for _ in range(reviews):
        await admission.review(body)
    means = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(reviews):
            await admission.review(body)
        means.append((time.process_time() - started) / reviews * 1e6)
    cuts = statistics.quantiles(means, n=100, method="inclusive")
    return {"bytes": len(body), "p50_us": round(statistics.median(means), 1), "p99_us": round(cuts[98], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 reviews, 3 rounds")
    parser.add_argument("--reviews", type=int, default=500, help="reviews per round")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    reviews, rounds = (20, 3) if args.quick else (args.reviews, args.rounds)
    decisions = logging.getLogger("aigov.decisions")
    decisions.setLevel(logging.INFO)
    decisions.propagate = False
    decisions.addHandler(logging.FileHandler(os.devnull))
    started = machine()
    cases: dict[str, dict[str, float]] = {}
    for case in CASES:
        cases[case] = asyncio.run(_measure(case, reviews, rounds))
        print(f"{case:9} {cases[case]}")
    results = {"reviews": reviews, "rounds": rounds, "cases": cases}
    print(f"results: {save('python_path', results, args.quick, started)}")


if __name__ == "__main__":
    main()
