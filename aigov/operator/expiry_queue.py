"""One queue of due re-evaluations for every AISystem: a heap of (when, key) served by a single task.

Replaces a sleeping task per object. Each key has at most one due time, and
setting it replaces the previous one (older heap entries are skipped when they
come up, or when they outnumber the live ones). The task sleeps until the earliest due time, or until a sooner one is
set, then calls `fire` for each due key, one at a time (or up to `concurrency` at
once, each in a task of its own); a `fire` that fails is logged and tried again a few
seconds later. `pending` tells whether a key is due or being fired, so a handler
can queue a first round without pushing back one already queued.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from aigov.core.binding import SystemKey

RETRY_SECONDS = 5.0
"""How soon a round is retried after a transient failure."""


class ExpiryQueue:
    """When each AISystem is next due, and the one task that acts on it."""

    def __init__(self, concurrency: int = 1) -> None:
        self._heap: list[tuple[float, SystemKey]] = []
        self._due: dict[SystemKey, float] = {}
        self._firing: set[SystemKey] = set()
        self._fired: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrent = concurrency > 1
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def pending(self, key: SystemKey) -> bool:
        """Whether `key` has a due time or is being fired now."""
        return key in self._due or key in self._firing

    def set(self, key: SystemKey, seconds: float | None) -> None:
        """`key` is next due in `seconds` (None: not due until something changes), replacing its due time."""
        if seconds is None:
            self._due.pop(key, None)
            return
        when = asyncio.get_running_loop().time() + max(seconds, 0.0)
        self._due[key] = when
        heapq.heappush(self._heap, (when, key))
        if len(self._heap) > 2 * len(self._due) + 64:  # drop the replaced entries
            self._heap = [(due, k) for k, due in self._due.items()]
            heapq.heapify(self._heap)
        if self._heap[0] == (when, key):
            self._changed.set()

    def start(self, fire: Callable[[SystemKey], Awaitable[None]], logger: logging.Logger) -> None:
        """Serve the queue in a task of its own (in the caller's context), unless one already does."""
        if self._task is None:
            self._task = asyncio.create_task(self.serve(fire, logger))

    def stop(self) -> None:
        """Cancel the task serving the queue."""
        for task in [self._task, *self._fired]:
            if task is not None:
                task.cancel()
        self._task = None

    async def serve(self, fire: Callable[[SystemKey], Awaitable[None]], logger: logging.Logger) -> None:
        """Call `fire(key)` when each key comes due, until cancelled; `fire` sets the key's next due time."""
        loop = asyncio.get_running_loop()
        while True:
            while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)  # replaced or dropped since
            self._changed.clear()
            if not self._heap:
                await self._changed.wait()
                continue
            when, key = self._heap[0]
            if when > loop.time():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), when - loop.time())
                continue
            heapq.heappop(self._heap)
            del self._due[key]
            await self._slots.acquire()
            self._firing.add(key)
            if self._concurrent:
                self._fired.add(task := asyncio.create_task(self._fire(fire, key, logger)))
                task.add_done_callback(self._fired.discard)
            else:
                await self._fire(fire, key, logger)

    async def _fire(self, fire: Callable[[SystemKey], Awaitable[None]], key: SystemKey, logger: logging.Logger) -> None:
        try:
            await fire(key)
        except Exception:
            logger.exception(f"re-evaluating {key[0]}/{key[1]} failed; retrying in {RETRY_SECONDS:.0f}s")
            self.set(key, RETRY_SECONDS)
        finally:
            self._firing.discard(key)
            self._slots.release()
