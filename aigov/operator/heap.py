"""Hands freed heap back to the system: glibc's `malloc_trim(0)` once a minute.

A start-up over many AISystems allocates far more than the operator keeps (kopf lists
every object and processes each one's events at once); glibc keeps most of what is freed
afterwards, so the resident memory stays at the start-up's high-water mark. Trimming
releases the free pages (docs/benchmarks.md, "Operator at scale"). Costs a heap walk a
minute; nothing where the C library has no `malloc_trim` (musl, macOS).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import kopf

from aigov.operator.context import REGISTRY

TRIM_SECONDS = 60.0
_TASK = "heap-trimmer"


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none."""
    with suppress(OSError):
        trim: Callable[[int], int] | None = getattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_trim", None)
        return trim
    return None


async def trim_every(seconds: float, trim: Callable[[int], int]) -> None:
    """Trim the heap every `seconds`, until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        trim(0)


@kopf.on.startup(registry=REGISTRY)
async def start_trimming(memo: Any, **_: Any) -> None:
    """Start trimming the heap, where the C library can."""
    trim = malloc_trim()
    if trim is not None:
        memo[_TASK] = asyncio.get_running_loop().create_task(trim_every(TRIM_SECONDS, trim))


@kopf.on.cleanup(registry=REGISTRY)
def stop_trimming(memo: Any, **_: Any) -> None:
    """Stop trimming."""
    task = memo.get(_TASK)
    if task is not None:
        task.cancel()
