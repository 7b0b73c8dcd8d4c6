"""What every handler shares: the handler registry and the operator context carried in kopf's memo.

Handlers are registered on `REGISTRY` (not kopf's global default), so importing
aigov never changes another kopf operator in the same process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import kopf

from aigov.core.binding import SystemKey
from aigov.core.config import Config
from aigov.operator.kube import StatusWriter

REGISTRY = kopf.OperatorRegistry()


@dataclass
class OperatorContext:
    """Configuration, the API writer, and the wake-up signals of the per-AISystem reconcilers."""

    config: Config
    kube: StatusWriter
    resync_seconds: float
    namespaces: tuple[str, ...] = ()
    """The namespaces served; empty means cluster-wide."""
    _wakers: dict[SystemKey, asyncio.Event] = field(default_factory=dict)

    def register(self, key: SystemKey) -> asyncio.Event:
        """A fresh event that wakes the reconciler of AISystem `key` (replacing a stopping one's)."""
        event = self._wakers[key] = asyncio.Event()
        return event

    def forget(self, key: SystemKey, event: asyncio.Event) -> None:
        """Drop a stopped reconciler's event, unless a newer reconciler registered its own."""
        if self._wakers.get(key) is event:
            del self._wakers[key]

    def wake(self, key: SystemKey) -> None:
        """Ask AISystem `key`'s reconciler to run now (no-op when none runs)."""
        event = self._wakers.get(key)
        if event is not None:
            event.set()


def context(memo: Any) -> OperatorContext:
    """The operator context from a handler's `memo` kwarg."""
    ctx: OperatorContext = memo["aigov"]
    return ctx


def memo_for(ctx: OperatorContext) -> kopf.Memo:
    """The memo handed to kopf (copied per object; the context inside is shared)."""
    return kopf.Memo(aigov=ctx)
