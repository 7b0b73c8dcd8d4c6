"""A soak: server-side dry-run creates through the real API server, half governed, half ungoverned.

`AIGOV_SOAK_SECONDS` and `AIGOV_SOAK_RATE` (requests/s) set the run: by default 20 s at 20/s so
`make test` stays fast; the full soak is `AIGOV_SOAK_SECONDS=600 AIGOV_SOAK_RATE=200`. Asserts zero
errors, nothing ungoverned admitted, and the webhook's and the operator's resident memory flat: the
end at most `RSS_BOUND_MIB` above the start (taken after the first tenth of the run, once warm).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.devstack import Stack
from tests.e2e.conftest import own_stack
from tests.e2e.objects import (
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    assessment,
    checked,
)
from tests.e2e.stream import Tally, stream

pytestmark = pytest.mark.cluster

SECONDS = float(os.environ.get("AIGOV_SOAK_SECONDS", "20"))
RATE = float(os.environ.get("AIGOV_SOAK_RATE", "20"))
RSS_BOUND_MIB = 30.0


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` in MiB (/proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Sampler:
    """RSS of named processes every second, in a thread."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.samples[name].append((time.monotonic() - self._started, rss_mib(pid)))
            self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, name: str, warm: float) -> tuple[float, float, float]:
        """(start after `warm` seconds, peak, end) in MiB."""
        values = [mib for at, mib in self.samples[name] if at >= warm] or [self.samples[name][-1][1]]
        return values[0], max(values), values[-1]


@pytest.fixture(scope="module")
def soak_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A control plane of its own with the whole aigov stack."""
    with own_stack(tmp_path_factory.mktemp("soak")) as stack:
        yield stack


def test_soak(soak_stack: Stack) -> None:
    kube = soak_stack.cluster
    alice = soak_stack.person("alice", "aigov-assessor", groups=("aigov:assessors",))
    bob = soak_stack.person("bob", "aigov-approver", groups=("aigov:approvers",))
    namespace = f"soak-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", namespace)
    checked(apply(kube, namespace, aisystem("chat")))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), alice))
    checked(append_approval(kube, namespace, "chat", approval("bob"), bob))
    time.sleep(1)

    sampler = Sampler({"webhook": soak_stack.webhook.server.process.pid, "operator": soak_stack.operator.process.pid})
    tally = Tally()
    started = time.monotonic()
    stream(kube, namespace, "chat", seconds=SECONDS, rate=RATE, workers=max(4, int(RATE // 8)), tally=tally)
    elapsed = time.monotonic() - started
    sampler.stop()

    print(tally.line(f"soak {SECONDS:.0f} s at {RATE:.0f}/s asked, {tally.sent / elapsed:.0f}/s achieved"))
    for name in sampler.pids:
        start, peak, end = sampler.summary(name, warm=SECONDS / 10)
        print(f"{name} RSS MiB: start {start:.1f}, peak {peak:.1f}, end {end:.1f}")
        assert end - start <= RSS_BOUND_MIB, f"{name} grew {end - start:.1f} MiB"
    assert tally.errors == 0, tally.error_samples
    assert tally.ungoverned_admitted == 0
    assert tally.admitted > 0 and tally.refused > 0
    soak_stack.webhook.server.check_alive()
    soak_stack.operator.check_alive()
