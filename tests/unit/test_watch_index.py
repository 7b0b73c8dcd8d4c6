"""aigov's own watch indexes: events move and drop objects; listed objects without an event are pruned once gone."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from aigov.core.binding import SystemKey
from aigov.operator import watch_index
from aigov.operator.watch_index import Entry, WatchIndex

A, B = ("ml", "a"), ("ml", "b")


def test_events_index_move_and_drop_objects() -> None:
    index: WatchIndex[str] = WatchIndex()
    index.put("u1", (A, "web"))
    index.put("u2", (A, "job"))
    assert index.get(A) == ("web", "job") and index.get(B) == ()
    index.put("u1", (B, "web v2"))  # relabelled
    assert index.get(A) == ("job",) and index.get(B) == ("web v2",)
    index.put("u2", None)  # deleted, or no longer indexed
    assert index.get(A) == ()


def test_only_listed_objects_without_an_event_are_pruned() -> None:
    index: WatchIndex[str] = WatchIndex()
    present = {"u1": (A, "web"), "u2": (A, "gone"), "u3": (B, "confirmed")}

    async def listing() -> Mapping[str, Entry[str] | None]:
        return present

    async def fill() -> None:
        await index.fill(listing, lambda _: None)
        index.stop()

    asyncio.run(fill())
    assert index.get(A) == ("web", "gone") and index.get(B) == ("confirmed",)
    index.put("u3", None)  # an event: deleted
    index.put("u4", (B, "new"))  # created after the listing
    assert index.prune({"u1", "u4"}) == {A}
    assert index.get(A) == ("web",) and index.get(B) == ("new",)
    assert index.prune(set()) == {A}  # u1 had no event yet
    assert index.prune(set()) == set()


def test_the_pruner_relists_until_every_listed_object_had_an_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_index, "PRUNE_SECONDS", 0.01)
    index: WatchIndex[str] = WatchIndex()
    listings = [{"u1": (A, "web"), "u2": (B, "job")}, {"u1": (A, "web")}]
    woken: list[SystemKey] = []

    async def listing() -> Mapping[str, Entry[str] | None]:
        return listings.pop(0) if len(listings) > 1 else listings[0]

    async def run() -> None:
        await index.fill(listing, woken.append)
        index.put("u1", (A, "web"))  # u1's event; u2 was deleted before kopf listed it
        for _ in range(100):
            await asyncio.sleep(0.01)
            if woken:
                break
        index.stop()

    asyncio.run(run())
    assert woken == [B] and index.get(B) == () and index.get(A) == ("web",)
