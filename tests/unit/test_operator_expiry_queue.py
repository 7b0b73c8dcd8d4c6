"""The operator's one queue of due rounds: earliest first, a new due time replaces the old, a failure is retried."""

from __future__ import annotations

import asyncio
import logging

import pytest

from aigov.core.binding import SystemKey
from aigov.operator import expiry_queue
from aigov.operator.expiry_queue import ExpiryQueue

A, B, C = ("team", "a"), ("team", "b"), ("team", "c")


async def served(queue: ExpiryQueue, seconds: float, fail: set[SystemKey] | None = None) -> list[SystemKey]:
    """The keys fired, in order, while the queue is served for `seconds`."""
    fired: list[SystemKey] = []

    async def fire(key: SystemKey) -> None:
        fired.append(key)
        if fail and key in fail:
            fail.discard(key)
            raise RuntimeError("API unreachable")

    task = asyncio.create_task(queue.serve(fire, logging.getLogger("test")))
    await asyncio.sleep(seconds)
    task.cancel()
    return fired


async def test_keys_fire_once_each_in_due_order() -> None:
    queue = ExpiryQueue()
    queue.set(A, 0.3)
    queue.set(B, 0.1)
    queue.set(C, 0.2)
    assert await served(queue, 0.6) == [B, C, A]


async def test_a_new_due_time_replaces_the_old_one_and_none_drops_the_key() -> None:
    queue = ExpiryQueue()
    queue.set(A, 0.1)
    queue.set(B, 0.1)
    queue.set(A, 0.3)  # later than before: not at 0.1
    queue.set(B, None)  # not due until something changes
    for _ in range(200):  # many replacements: still one round per key
        queue.set(C, 0.2)
    assert await served(queue, 0.6) == [C, A]


async def test_a_sooner_due_time_wakes_the_sleeping_task() -> None:
    queue = ExpiryQueue()
    queue.set(A, 30)
    asyncio.get_running_loop().call_later(0.1, queue.set, B, 0)
    assert await served(queue, 0.4) == [B]


async def test_a_failed_round_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiry_queue, "RETRY_SECONDS", 0.2)
    queue = ExpiryQueue()
    queue.set(A, 0)
    assert await served(queue, 0.5, fail={A}) == [A, A]
