"""Bounded waiting for tests against real servers: poll, never sleep as an assertion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

DEADLINE = 20.0


def eventually(probe: Callable[[], Any], timeout: float = DEADLINE, *, interval: float = 0.2, what: str = "") -> Any:
    """Poll `probe` until it returns something truthy; fail with its last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not within {timeout:.0f}s: {what or probe}; last: {last!r}")
