"""Starts the operator: kopf with aigov's handlers, settings, credentials, peering and liveness probe.

Peering is on unless `standalone`: every replica joins the peering object
(created here when missing, since kopf only patches it) with a random priority,
so exactly one replica acts and the others stand by until it stops renewing.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kopf

from aigov.core.config import Config
from aigov.operator import (  # noqa: F401  (importing registers the handlers)
    archive_handlers,
    bound_workloads,
    drift_handlers,
    endpoints,
    exception_handlers,
    gauge_handlers,
    heap,
    lifecycle_handlers,
    nonconformity_handlers,
    record_log,
    suspension_handlers,
)
from aigov.operator.context import REGISTRY, OperatorContext, context, memo_for
from aigov.operator.kube import StatusWriter, connection_info, load_configuration
from aigov.operator.monitoring import MonitoringOptions, install
from aigov.telemetry.metrics import WARNING_WINDOW

FINALIZER = "aigov.io/operator"
"""kopf's finalizer name. No handler needs it now (no daemons or timers on AISystems): kopf adds it to no
object and removes it from AISystems that an older operator, which ran drift checks as daemons, left it on."""

REPORTING_COMPONENT = "aigov-operator"
WORKER_LIMIT = 64
"""Default kopf workers per watched kind: bounds the start-up peak, which the allocator never hands back."""
IDLE_TIMEOUT = 0.5
"""Seconds a kopf worker waits for its object's next event before it frees its place (kopf's default: 5)."""


@dataclass(frozen=True)
class Options:
    """How to run the operator (the `aigov operator` flags)."""

    config: Config
    kubeconfig: Path | None = None
    namespaces: tuple[str, ...] = ()
    """Namespaces to serve; empty means cluster-wide."""
    peering: str = "aigov"
    standalone: bool = False
    liveness: str | None = None
    """kopf liveness endpoint, e.g. `http://127.0.0.1:8080/healthz`."""
    resync_seconds: float = 0.0
    """Re-read every AISystem at least this often; 0: only on changes and when an expiry is due."""
    priority: int | None = None
    """Peering priority; random when None (equal priorities would pause every replica)."""
    monitoring: MonitoringOptions = field(default_factory=MonitoringOptions)
    """Prometheus for drift checks, the metrics port, the Alertmanager receiver."""
    worker_limit: int | None = WORKER_LIMIT
    """kopf workers per watched kind at once (None: one per object, as at start-up with every object at once)."""


class _QuietWakers(logging.Filter):
    """Drops kopf's "Handler 'wake-…' succeeded." line, which the wake-up watchers would log on every watch event."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Handler 'wake-") and message.endswith("succeeded."))


def settings(options: Options) -> kopf.OperatorSettings:
    """kopf settings: aigov's finalizer and event source, peering priority, worker limit, no logs posted as Events."""
    result = kopf.OperatorSettings()
    result.persistence.finalizer = FINALIZER
    result.posting.reporting_component = REPORTING_COMPONENT
    result.posting.loggers = False
    result.peering.priority = options.priority if options.priority is not None else random.randint(1, 2**31 - 1)
    result.queueing.worker_limit = options.worker_limit
    result.queueing.idle_timeout = IDLE_TIMEOUT
    return result


@kopf.on.login(registry=REGISTRY)
def login(memo: Any, **_: Any) -> kopf.ConnectionInfo:
    """kopf connects with the operator's own credentials."""
    return connection_info(context(memo).kube.configuration)


@kopf.on.startup(registry=REGISTRY)
async def join_peering(settings: kopf.OperatorSettings, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Make sure the peering object exists before kopf starts keeping it alive."""
    if settings.peering.standalone:
        return
    ctx = context(memo)
    for namespace in ctx.namespaces or (None,):
        if await ctx.kube.ensure_peering(settings.peering.name, namespace):
            where = f"in namespace {namespace}" if namespace else "cluster-wide"
            logger.info(f"created peering object {settings.peering.name!r} {where}")


@kopf.on.cleanup(registry=REGISTRY)
def close(memo: Any, **_: Any) -> None:
    """Release the API client."""
    context(memo).kube.close()


def run(options: Options) -> None:
    """Run the operator until SIGINT/SIGTERM."""
    ctx = OperatorContext(
        config=options.config,
        kube=StatusWriter(load_configuration(options.kubeconfig)),
        resync_seconds=options.resync_seconds,
        namespaces=options.namespaces,
    )
    WARNING_WINDOW.set(options.config.warning_window_days * 86400)
    logging.getLogger("kopf.objects").addFilter(_QuietWakers())
    kopf.run(
        registry=REGISTRY,
        settings=settings(options),
        memo=install(memo_for(ctx), options.monitoring),
        clusterwide=not options.namespaces,
        namespaces=options.namespaces,
        standalone=options.standalone,
        peering_name=None if options.standalone else options.peering,
        liveness_endpoint=options.liveness,
    )
