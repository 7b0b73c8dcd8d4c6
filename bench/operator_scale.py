"""aigov's operator as the cluster grows: 10, 1,000 and 10,000 AISystems; time to set every phase, then idle cost.

Everything real, on loopback: etcd + kube-apiserver and `aigov operator` as a
subprocess (standalone). The AISystems carry realistic statuses
(devkit.loadgen.aisystem: an assessment, an approval, conditions, a current and
two past suspensions, three bound workloads) written through the status
subresource, without a phase (with `--settled` also without the current, resumed
suspension, as the operator leaves a status once it archived that: less work at
the start, the same idle state). At each size the operator is started fresh over
all the systems created so far; measured: the seconds until every AISystem has
its phase; then, once the operator's log has been quiet for a while (the work
that follows the phases, such as archiving resumed suspensions and opening their
nonconformities, is done), its resident memory and CPU (utime + stime from
/proc, as % of one core) over an idle window, sampled every few seconds so the
JSON shows both over time.

    python bench/operator_scale.py [--quick] [--settled] [--sizes 10,1000,10000] [--window 60] [--trace DIR]

With `--trace DIR` the operator runs under tracemalloc (`bench/traced_operator.py`, which
slows it down: its times and RSS are not comparable) and, after the idle window, dumps a
snapshot to `DIR/operator-<size>.snapshot` and the top allocations to `DIR/operator-<size>.txt`.
With `--trim-probe` the operator runs untraced from the same wrapper and, after the idle
window, is asked to collect garbage and call glibc's `malloc_trim(0)`: `rss_after_trim_mib`
says how much of its resident memory was freed heap kept by malloc.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

from aigov.operator.environment import operator_env
from devkit.devcluster import LOOPBACK, ControlPlane, Server, free_port, wait_until
from devkit.devstack import install_crds
from devkit.loadgen import Admin, cpu_seconds, create_systems, machine, rss_mib, save

AIGOV = Path(sys.executable).parent / "aigov"
TRACED = Path(__file__).parent / "traced_operator.py"
NAMESPACE = "bench"
PAGE = 2000


def unphased(admin: Admin) -> int:
    """How many AISystems have no phase yet (a paginated list)."""
    missing, token = 0, ""
    while True:
        params: dict[str, str] = {"limit": str(PAGE)} | ({"continue": token} if token else {})
        page = admin.send("GET", f"/apis/aigov.io/v1alpha1/namespaces/{NAMESPACE}/aisystems", None, **params).json()
        missing += sum(1 for item in page["items"] if not (item.get("status") or {}).get("phase"))
        token = page["metadata"].get("continue") or ""
        if not token:
            return missing


def start_operator(cluster: ControlPlane, workdir: Path, name: str, snapshot: Path | None = None) -> Server:
    """`aigov operator` over the bench cluster (from the tracing wrapper when `snapshot`), once its probe answers."""
    liveness = f"http://{LOOPBACK}:{free_port()}/healthz"
    command: list[str | Path] = [sys.executable, TRACED, snapshot] if snapshot else [AIGOV]
    argv: list[str | Path] = [
        *command,
        "operator",
        f"--kubeconfig={cluster.kubeconfig}",
        "--standalone",
        f"--liveness={liveness}",
    ]
    operator = Server.start(name, argv, workdir, operator_env())  # as the chart runs it
    with httpx.Client() as probe:
        wait_until(operator, probe, liveness, 900 if snapshot else 120)  # tracemalloc slows the imports down
    return operator


def quiet(operator: Server, seconds: float, limit: float = 1800) -> float:
    """Wait until the operator has logged nothing for `seconds`; how long that took."""
    started = time.monotonic()
    size, since = -1, started
    while time.monotonic() - since < seconds and time.monotonic() - started < limit:
        operator.check_alive()
        now = operator.log_path.stat().st_size
        if now != size:
            size, since = now, time.monotonic()
        time.sleep(0.5)
    return time.monotonic() - started


def idle(pid: int, window: float, step: float) -> dict[str, Any]:
    """RSS (MiB) and CPU (% of one core) over an idle window, overall and per sample."""
    start_cpu, started = cpu_seconds(pid), time.monotonic()
    timeline: list[dict[str, float]] = []
    last_cpu, last = start_cpu, started
    while time.monotonic() - started < window:
        time.sleep(step)
        cpu, now = cpu_seconds(pid), time.monotonic()
        share = 100 * (cpu - last_cpu) / (now - last)
        timeline.append({"t_s": round(now - started, 1), "rss_mib": round(rss_mib(pid), 1), "cpu_pct": round(share, 2)})
        last_cpu, last = cpu, now
    elapsed = time.monotonic() - started
    return {
        "window_s": round(elapsed, 1),
        "cpu_pct": round(100 * (cpu_seconds(pid) - start_cpu) / elapsed, 2),
        "rss_mib": round(rss_mib(pid), 1),
        "peak_rss_mib": max(s["rss_mib"] for s in timeline),
        "timeline": timeline,
    }


def top_allocations(snapshot: tracemalloc.Snapshot, out: Path, limit: int = 40) -> None:
    """The largest allocation sites (by line, by file, and by traceback) of a tracemalloc snapshot, as text."""
    lines = [f"traced: {sum(s.size for s in snapshot.statistics('filename')) / 2**20:.1f} MiB"]
    for key in ("lineno", "filename"):
        lines.append(f"\n## top {limit} by {key}")
        stats = snapshot.statistics(key)[:limit]
        lines += [f"{s.size / 2**10:10.1f} KiB {s.count:8d} blocks  {s.traceback[0]}" for s in stats]
    lines.append("\n## top 15 by traceback (innermost 12 frames)")
    for stat in snapshot.statistics("traceback")[:15]:
        lines.append(f"{stat.size / 2**10:10.1f} KiB {stat.count:8d} blocks")
        lines += [f"      {frame}" for frame in list(stat.traceback)[-12:]]
    out.write_text("\n".join(lines) + "\n")


def dump_snapshot(operator: Server, snapshot: Path, limit: float = 600) -> None:
    """Ask the traced operator for its snapshot and summarise it next to it."""
    os.kill(operator.process.pid, signal.SIGUSR1)
    started = time.monotonic()
    while not snapshot.exists() and time.monotonic() - started < limit:
        operator.check_alive()
        time.sleep(1)
    top_allocations(tracemalloc.Snapshot.load(str(snapshot)), snapshot.with_suffix(".txt"))


def trimmed_rss(operator: Server) -> float:
    """The operator's RSS (MiB) once it collected garbage and called `malloc_trim(0)`."""
    os.kill(operator.process.pid, signal.SIGUSR2)
    time.sleep(5)
    return round(rss_mib(operator.process.pid), 1)


def run(
    sizes: list[int],
    window: float,
    settle: float,
    step: float,
    workdir: Path,
    *,
    settled: bool,
    trace: Path | None,
    trim_probe: bool = False,
) -> dict[str, Any]:
    results: dict[str, Any] = {"window_s": window, "settled": settled, "sizes": {}}
    without = ("phase", "suspension") if settled else ("phase",)
    with ControlPlane(workdir / "controlplane") as cluster:
        install_crds(cluster)
        admin = Admin(cluster)
        admin.namespace(NAMESPACE)
        have = 0
        for size in sizes:
            started = time.monotonic()
            create_systems(cluster, NAMESPACE, have, size, without)
            created, have = time.monotonic() - started, max(have, size)
            snapshot = trace / f"operator-{size}.snapshot" if trace else None
            snapshot = workdir / "untraced" if trim_probe else snapshot
            operator = start_operator(cluster, workdir, f"operator-{size}", snapshot)
            try:
                started = time.monotonic()
                while unphased(admin):
                    operator.check_alive()
                    time.sleep(1)
                phased = time.monotonic() - started
                found = {"create_s": round(created, 1), "all_phases_s": round(phased, 1)}
                found["quiet_after_s"] = round(quiet(operator, settle), 1)
                found |= idle(operator.process.pid, window, step)
                if trim_probe:
                    found["rss_after_trim_mib"] = trimmed_rss(operator)
                elif snapshot:
                    dump_snapshot(operator, snapshot)
            finally:
                operator.stop(timeout=30)
            results["sizes"][str(size)] = found
            print(f"{size:>6} AISystems: " + ", ".join(f"{k} {v}" for k, v in found.items() if k != "timeline"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 and 30 systems, a 4 s window")
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--settled", action="store_true", help="statuses with the resumed suspension archived")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of idle sampling per size")
    parser.add_argument("--trace", type=Path, help="run the operator under tracemalloc; snapshots to this directory")
    parser.add_argument("--trim-probe", action="store_true", help="measure the RSS after gc and malloc_trim(0) too")
    args = parser.parse_args()
    sizes, window, settle, step = [int(s) for s in args.sizes.split(",")], args.window, 10.0, 5.0
    if args.quick:
        sizes, window, settle, step = [10, 30], 4.0, 1.0, 1.0
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir:
        if args.trace:
            args.trace.mkdir(parents=True, exist_ok=True)
        if args.trim_probe:
            os.environ["AIGOV_TRACE_FRAMES"] = "0"  # the wrapper's signals, without tracemalloc
        options = {"settled": args.settled, "trace": args.trace, "trim_probe": args.trim_probe}
        results = run(sizes, window, settle, step, Path(workdir), **options)
    name = "operator_scale_settled" if args.settled else "operator_scale"
    name += "_traced" if args.trace else "_trim_probe" if args.trim_probe else ""
    print(f"results: {save(name, results, args.quick, started)}")


if __name__ == "__main__":
    main()
