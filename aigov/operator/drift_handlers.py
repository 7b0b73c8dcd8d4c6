"""Runs each AISystem's drift checks every `spec.monitoring.intervalSeconds`, from one queue for every system.

Each event of an AISystem queues its first round when it has checks (or monitoring
state left to clear) and none is queued yet; the operator's drift queue
(`OperatorContext.drift`, an `ExpiryQueue` serving a few rounds at once) then runs
each round with the object read afresh and queues the next one an interval later,
reading the interval again each round. A round queries every check at once, calls
the pure `aigov.core.drift.monitor` and writes its patch (check states, the
`ChecksPassing` condition and, when a check suspends, the suspension record) with
a `resourceVersion` precondition. When the object changed meanwhile, it is read
again and the same query outcomes are evaluated against it, so nothing is lost and
nothing is evaluated twice. Events follow a successful write; the suspension
handlers then stop the workloads. A system whose checks were removed gets its
monitoring state cleared once, after which no further round is queued; a system
being deleted or gone gets none either.

A queue rather than a kopf daemon per system: kopf keeps the latest whole body of
every object of a resource that has daemons or timers (about 20 KiB per AISystem,
whether or not its daemon runs); see docs/benchmarks.md, "Operator at scale".
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import kopf
import kubernetes
import urllib3
from pydantic import ValidationError

from aigov.core.binding import SystemKey
from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.drift import CONDITION, Outcome, QueryError, monitor
from aigov.core.model import AISystem
from aigov.operator.context import REGISTRY, context
from aigov.operator.monitoring import OPERATOR, monitoring

_ATTEMPTS = 3
_DEFAULT_INTERVAL = 60.0
_RETRY_SECONDS = 5.0
_NO_PROMETHEUS = QueryError("no Prometheus configured: run the operator with --prometheus-url")
_LOG = logging.getLogger(__name__)
_LOGGING = kopf.OperatorSettings()
"""For the rounds' object loggers, which log like kopf's and post nothing."""


def _monitored(body: Mapping[str, Any]) -> bool:
    """Systems with checks, and systems whose monitoring state is left to clear; not while being deleted."""
    if (body.get("metadata") or {}).get("deletionTimestamp"):
        return False
    spec, status = body.get("spec") or {}, body.get("status") or {}
    conditions = status.get("conditions") or []
    leftover = status.get("monitoring") or any(c.get("type") == CONDITION for c in conditions if isinstance(c, dict))
    return bool((spec.get("monitoring") or {}).get("checks") or leftover)


@kopf.on.event(GROUP, VERSION, PLURAL, id="drift", registry=REGISTRY)
async def on_event(type: str | None, body: kopf.Body, memo: Any, **_: Any) -> None:
    """Queue the first round of a monitored system; drop the queued round of one no longer monitored."""
    queue = context(memo).drift
    # Started from a handler, so the queue's tasks can post Events through kopf like the handlers do.
    queue.start(functools.partial(drift_round, memo), _LOG)
    key = (body.metadata.namespace or "", body.metadata.name or "")
    if type == "DELETED" or not _monitored(body):
        queue.set(key, None)
    elif not queue.pending(key):
        queue.set(key, 0.0)


@kopf.on.cleanup(registry=REGISTRY)
def stop_drift(memo: Any, **_: Any) -> None:
    """Stop the drift queue's tasks."""
    context(memo).drift.stop()


async def drift_round(memo: Any, key: SystemKey) -> None:
    """Evaluate the checks of the system as stored now, then queue its next round (none once it is not monitored)."""
    raw = await monitoring(memo).cluster.system(*key)
    if raw is None or not _monitored(raw):
        return
    body = kopf.Body(cast(kopf.RawBody, raw))
    logger = kopf.LocalObjectLogger(body=body, settings=_LOGGING)
    interval = _DEFAULT_INTERVAL
    try:
        system = AISystem.model_validate(raw)
        if system.spec.monitoring:
            interval = float(system.spec.monitoring.interval_seconds)
        await evaluate(system, body, memo, logger)
    except ValidationError as exc:
        logger.error(f"cannot monitor: the object does not match the AISystem model: {exc}")
    except (kubernetes.client.ApiException, urllib3.exceptions.HTTPError) as exc:
        logger.warning(f"monitoring round not written, retrying: {exc}")
        interval = min(interval, _RETRY_SECONDS)
    context(memo).drift.set(key, interval)


async def evaluate(system: AISystem, body: kopf.Body, memo: Any, logger: kopf.Logger) -> None:
    """One round: query every check, then write the outcome (re-reading the object on a conflict)."""
    mon = monitoring(memo)
    checks = system.spec.monitoring.checks if system.spec.monitoring else []
    outcomes = dict(zip([c.name for c in checks], await _query([c.query for c in checks], memo), strict=True))
    now = datetime.now(UTC)
    namespace, name = system.metadata.namespace or "", system.metadata.name or ""
    for _ in range(_ATTEMPTS):
        plan = monitor(system, outcomes, now, OPERATOR)
        version = system.metadata.resource_version or ""
        if await context(memo).kube.patch_status(namespace, name, version, plan.status):
            for event in plan.events:
                kopf.event(body, type=event.type.value, reason=event.reason, message=event.message)
            if plan.suspends:
                record = plan.status["suspension"]
                logger.warning(f"suspending: {record['reason']} (check {record['check']}, value {record['value']})")
            return
        fresh = await mon.cluster.system(namespace, name)
        if fresh is None:
            return
        system = AISystem.model_validate(fresh)
    logger.warning(f"monitoring round dropped after {_ATTEMPTS} conflicting writes")


async def _query(queries: list[str], memo: Any) -> list[Outcome]:
    prometheus = monitoring(memo).prometheus
    if prometheus is None:
        return [_NO_PROMETHEUS for _ in queries]
    return list(await asyncio.gather(*(prometheus.query(q) for q in queries)))
