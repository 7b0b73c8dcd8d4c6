"""Where aigov's webhook spends its time under load: py-spy samples it while vegeta sends governed reviews.

Everything real, on loopback: etcd + kube-apiserver, aigov's webhook with its
OPA and an approved AISystem (as bench/webhook_peers.py). vegeta sends the
governed ~8 KB review at a fixed rate while `py-spy record` samples the webhook
process (busy threads only). Each sample is charged to the first category found
walking its stack from the innermost frame out (so JSON parsing inside the OPA
client counts as JSON): logging, metrics, JSON, pydantic, policy input, OPA
client (httpx/httpcore), TLS, server (uvicorn/h11/starlette/FastAPI), aigov's own
webhook code, the event loop, other; and the commonest innermost frames. The
flame graph goes to --svg.

    python bench/profile_webhook.py [--quick] [--rate N] [--seconds S] [--svg PATH]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from devkit.devcluster import ControlPlane
from devkit.loadgen import Admin, aisystem, machine, review, save, start_aigov, vegeta

NAMESPACE = "bench"
# (category, substrings of a py-spy frame "function (file:line)"), checked in order for each frame.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("logging", ("logging/", "pythonjsonlogger")),
    ("metrics (prometheus_client)", ("prometheus_client",)),
    ("JSON (orjson/json)", ("orjson", "json/")),
    ("pydantic validation", ("pydantic",)),
    ("policy input building", ("aigov/policy/input.py", "aigov/core/")),
    ("OPA client (httpx/httpcore)", ("aigov/policy/opa.py", "opa_client", "httpx", "httpcore")),
    ("TLS (ssl, asyncio sslproto)", ("ssl.py", "sslproto.py")),
    ("server (uvicorn/h11/starlette/FastAPI)", ("uvicorn", "h11", "starlette", "fastapi", "anyio")),
    ("aigov webhook code", ("aigov/webhook/",)),
    ("event loop (asyncio)", ("asyncio/",)),
)


def categorise(collapsed: str) -> tuple[dict[str, float], dict[str, float]]:
    """Share of samples per category, and the 15 commonest innermost frames, from py-spy's collapsed stacks
    (`frame;frame;... count`), in percent."""
    counts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")[::-1]
        found = next(
            (name for frame in frames for name, needles in CATEGORIES if any(n in frame for n in needles)), "other"
        )
        counts[found] += int(number)
        leaves[frames[0]] += int(number)
    total = sum(counts.values()) or 1
    return (
        {name: round(100 * count / total, 1) for name, count in counts.most_common()},
        {frame: round(100 * count / total, 1) for frame, count in leaves.most_common(15)},
    )


def run(rate: int, seconds: float, svg: Path, workdir: Path) -> dict[str, Any]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with ControlPlane(workdir / "controlplane") as cluster:
        webhook = start_aigov(cluster, workdir / "aigov")
        try:
            admin = Admin(cluster)
            admin.namespace(NAMESPACE)
            admin.aisystem(*aisystem("support-chatbot", NAMESPACE))
            body, url = review("governed", NAMESPACE), f"{webhook.url}/validate"
            vegeta(url, body, ca_pem=webhook.ca_pem, duration=2, rate=50)  # warm-up
            raw = workdir / "profile.txt"
            record = [py_spy, "record", "--pid", str(webhook.server.process.pid), "--rate", "250", "--nonblocking"]
            samplers = [
                subprocess.Popen([*record, "--duration", str(int(seconds)), *output], stdout=subprocess.DEVNULL)
                for output in (["--format", "raw", "-o", str(raw)], ["-o", str(svg)])
            ]
            load: dict[str, Any] = {}

            def attack_for() -> None:
                load.update(vegeta(url, body, ca_pem=webhook.ca_pem, duration=seconds + 1, rate=rate).as_dict())

            attack = threading.Thread(target=attack_for)
            attack.start()
            for sampler in samplers:
                sampler.wait(timeout=seconds + 60)
            attack.join()
            shares, leaves = categorise(raw.read_text())
        finally:
            webhook.stop()
    print(f"load during the profile: {load}")
    for name, share in shares.items():
        print(f"  {share:5.1f}%  {name}")
    print("innermost frames:")
    for frame, share in leaves.items():
        print(f"  {share:5.1f}%  {frame}")
    return {"rate": rate, "seconds": seconds, "load": load, "shares_percent": shares, "top_frames_percent": leaves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 s at 20 req/s")
    parser.add_argument("--rate", type=int, default=40, help="governed reviews per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--svg", type=Path, default=Path(tempfile.gettempdir()) / "aigov-webhook-profile.svg")
    args = parser.parse_args()
    rate, seconds = (20, 3.0) if args.quick else (args.rate, args.seconds)
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
        results = run(rate, seconds, args.svg, Path(workdir))
    print(f"flame graph: {args.svg}")
    print(f"results: {save('profile_webhook', results, args.quick, started)}")


if __name__ == "__main__":
    main()
