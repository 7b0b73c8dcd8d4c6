"""aigov's own indexes of watched objects by AISystem, complete before any handler runs, whatever kopf's worker limit.

kopf's `@kopf.index` holds every handler back until each indexed object's worker has
indexed it. With `settings.queueing.worker_limit` that deadlocks as soon as an
indexed kind has more objects than the limit: the first workers take every slot
and wait for objects whose workers can never start. So aigov keeps its indexes
itself: a start-up handler lists the indexed objects (kopf runs start-up handlers
before it starts watching, so the first round already reads a complete index),
and `kopf.on.event` handlers keep it current (DELETED removes). An object listed
here but deleted before kopf's own listing gets no event to remove it: until each
listed object has had an event, the index re-lists every `PRUNE_SECONDS` and drops
the listed ones that are gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Generic, TypeVar

import kubernetes
import urllib3

from aigov.core.binding import SystemKey

V = TypeVar("V")
Entry = tuple[SystemKey, V]
"""An object's place in an index: the AISystem it belongs to and what is kept of it."""

PRUNE_SECONDS = 30.0
LIST_RETRY_SECONDS = 2.0
"""kopf retries a failed start-up listing after this long (holding the start-up: the index must be complete)."""
_LOG = logging.getLogger(__name__)


class WatchIndex(Generic[V]):
    """Values of watched objects (by uid) under their AISystem's key."""

    def __init__(self) -> None:
        self._by_key: dict[SystemKey, dict[str, V]] = {}
        self._key_of: dict[str, SystemKey] = {}
        self._unconfirmed: set[str] = set()
        """Listed at start-up, no watch event yet: may be gone without a DELETED event."""
        self._pruner: asyncio.Task[None] | None = None

    def get(self, key: SystemKey) -> tuple[V, ...]:
        """The values indexed under `key`."""
        return tuple(self._by_key.get(key, {}).values())

    def put(self, uid: str, entry: Entry[V] | None) -> None:
        """An object's watch event: index it under its key (None drops it: deleted, or indexed under none)."""
        self._unconfirmed.discard(uid)
        self._put(uid, entry)

    async def fill(
        self, listing: Callable[[], Awaitable[Mapping[str, Entry[V] | None]]], gone: Callable[[SystemKey], None]
    ) -> None:
        """Index every object `listing` returns (uid → entry); prune in a task until each listed one had an event.

        `gone` is told the key of every object pruned.
        """
        for uid, entry in (await listing()).items():
            if entry is not None:
                self._put(uid, entry)
                self._unconfirmed.add(uid)
        self._pruner = asyncio.create_task(self._prune(listing, gone))

    def stop(self) -> None:
        """Stop pruning."""
        if self._pruner is not None:
            self._pruner.cancel()

    def prune(self, present: Collection[str]) -> set[SystemKey]:
        """Drop the listed objects without an event that are not `present` any more; their keys."""
        gone = self._unconfirmed - set(present)
        keys = {self._key_of[uid] for uid in gone if uid in self._key_of}
        for uid in gone:
            self._put(uid, None)
        self._unconfirmed -= gone
        return keys

    async def _prune(
        self, listing: Callable[[], Awaitable[Mapping[str, Entry[V] | None]]], gone: Callable[[SystemKey], None]
    ) -> None:
        while self._unconfirmed:
            await asyncio.sleep(PRUNE_SECONDS)
            try:
                present = (await listing()).keys()
            except (kubernetes.client.ApiException, urllib3.exceptions.HTTPError) as exc:
                _LOG.warning(f"re-listing indexed objects failed, retrying in {PRUNE_SECONDS:.0f}s: {exc}")
                continue
            for key in self.prune(present):
                gone(key)

    def _put(self, uid: str, entry: Entry[V] | None) -> None:
        before = self._key_of.pop(uid, None)
        if before is not None:
            values = self._by_key[before]
            del values[uid]
            if not values:
                del self._by_key[before]
        if entry is not None:
            key, value = entry
            self._key_of[uid] = key
            self._by_key.setdefault(key, {})[uid] = value
