"""The operator's heap trimming: glibc's malloc_trim found and called on a period."""

from __future__ import annotations

import asyncio

from aigov.operator.heap import malloc_trim, trim_every


def test_glibc_has_malloc_trim() -> None:
    trim = malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)


async def test_the_heap_is_trimmed_every_period() -> None:
    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 0

    task = asyncio.create_task(trim_every(0.05, trim))
    await asyncio.sleep(0.18)
    task.cancel()
    assert calls == [0, 0, 0]
