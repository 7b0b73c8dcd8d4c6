"""What every handler shares: the handler registry and the operator context carried in kopf's memo.

Handlers are registered on `REGISTRY` (not kopf's global default), so importing
aigov never changes another kopf operator in the same process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import kopf

from aigov.core.binding import SystemKey
from aigov.core.config import Config
from aigov.core.model import BoundWorkload
from aigov.operator.expiry_queue import ExpiryQueue
from aigov.operator.kube import StatusWriter
from aigov.operator.watch_index import WatchIndex

REGISTRY = kopf.OperatorRegistry()

DRIFT_CONCURRENCY = 16
"""Drift rounds run at once (each waits on Prometheus), as the daemons per system did before."""
RECHECK_CONCURRENCY = 8
"""Suspension re-checks run at once (each reads and may scale workloads)."""


@dataclass
class OperatorContext:
    """Configuration, the API writer, the indexes, and the queues of due AISystem rounds, drift rounds and rechecks."""

    config: Config
    kube: StatusWriter
    resync_seconds: float
    """Re-read every AISystem at least this often; 0 means only when a change or an expiry is due."""
    namespaces: tuple[str, ...] = ()
    """The namespaces served; empty means cluster-wide."""
    queue: ExpiryQueue = field(default_factory=ExpiryQueue)
    drift: ExpiryQueue = field(default_factory=lambda: ExpiryQueue(concurrency=DRIFT_CONCURRENCY))
    """Each monitored system's next drift round (`aigov.operator.drift_handlers`)."""
    recheck: ExpiryQueue = field(default_factory=lambda: ExpiryQueue(concurrency=RECHECK_CONCURRENCY))
    """Each suspension's next re-check while it needs attention (`aigov.operator.suspension_handlers`)."""
    bound: WatchIndex[BoundWorkload] = field(default_factory=WatchIndex)
    """The workloads labelled with each AISystem (`aigov.operator.bound_workloads`)."""
    verifying: WatchIndex[dict[str, Any]] = field(default_factory=WatchIndex)
    """Each AISystem's Nonconformities whose corrective action is being verified (`nonconformity_handlers`)."""

    def wake(self, key: SystemKey) -> None:
        """Re-evaluate AISystem `key` now (re-read from the API server)."""
        self.queue.set(key, 0.0)


def context(memo: Any) -> OperatorContext:
    """The operator context from a handler's `memo` kwarg."""
    ctx: OperatorContext = memo["aigov"]
    return ctx


def memo_for(ctx: OperatorContext) -> kopf.Memo:
    """The memo handed to kopf (copied per object; the context inside is shared)."""
    return kopf.Memo(aigov=ctx)
