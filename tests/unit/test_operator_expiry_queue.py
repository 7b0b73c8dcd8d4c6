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


async def test_a_key_is_pending_while_due_and_while_fired() -> None:
    queue, seen = ExpiryQueue(), []
    release = asyncio.Event()

    async def fire(key: SystemKey) -> None:
        seen.append(queue.pending(key))
        await release.wait()

    assert not queue.pending(A)
    queue.set(A, 0)
    assert queue.pending(A)
    task = asyncio.create_task(queue.serve(fire, logging.getLogger("test")))
    await asyncio.sleep(0.05)
    assert seen == [True] and queue.pending(A)
    release.set()
    await asyncio.sleep(0.05)
    assert not queue.pending(A)
    task.cancel()


async def test_a_concurrent_queue_fires_up_to_its_limit_at_once() -> None:
    queue, running, most = ExpiryQueue(concurrency=2), set(), 0
    keys = [("team", str(i)) for i in range(5)]

    async def fire(key: SystemKey) -> None:
        nonlocal most
        running.add(key)
        most = max(most, len(running))
        await asyncio.sleep(0.1)
        running.discard(key)

    for key in keys:
        queue.set(key, 0)
    queue.start(fire, logging.getLogger("test"))
    await asyncio.sleep(0.15)
    assert most == 2 and running  # two at a time: the fifth is still to come
    await asyncio.sleep(0.25)
    assert not running and not any(queue.pending(key) for key in keys)
    queue.stop()
