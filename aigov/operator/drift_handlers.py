"""Runs each AISystem's drift checks every `spec.monitoring.intervalSeconds`: one kopf daemon per monitored system.

A daemon rather than a `kopf.timer` because the interval is per object and may
change with the spec; the daemon reads it again each round. A round queries
every check at once, calls the pure `aigov.core.drift.monitor` and writes its patch
(check states, the `ChecksPassing` condition and, when a check suspends, the
suspension record) with a `resourceVersion` precondition. When the object
changed meanwhile, it is read again and the same query outcomes are evaluated
against it, so nothing is lost and nothing is evaluated twice. Events follow a
successful write; the suspension handlers then stop the workloads.
A system whose checks were removed gets its monitoring state cleared once,
after which the daemon no longer matches and kopf stops it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import kopf
import kubernetes
import urllib3
from pydantic import ValidationError

from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.drift import CONDITION, Outcome, QueryError, monitor
from aigov.core.model import AISystem
from aigov.operator.context import REGISTRY, context
from aigov.operator.monitoring import OPERATOR, monitoring

_ATTEMPTS = 3
_DEFAULT_INTERVAL = 60.0
_RETRY_SECONDS = 5.0
_NO_PROMETHEUS = QueryError("no Prometheus configured: run the operator with --prometheus-url")


def _monitored(spec: kopf.Spec, status: kopf.Status, **_: Any) -> bool:
    """Systems with checks, and systems whose monitoring state is left to clear."""
    conditions = status.get("conditions") or []
    leftover = status.get("monitoring") or any(c.get("type") == CONDITION for c in conditions if isinstance(c, dict))
    return bool((spec.get("monitoring") or {}).get("checks") or leftover)


@kopf.daemon(GROUP, VERSION, PLURAL, id="drift", when=_monitored, cancellation_timeout=5.0, registry=REGISTRY)
async def drift(stopped: kopf.DaemonStopped, body: kopf.Body, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Evaluate the checks now and every interval until kopf stops the daemon."""
    while not stopped:
        interval = _DEFAULT_INTERVAL
        try:
            system = AISystem.model_validate(dict(body))
            if system.spec.monitoring:
                interval = float(system.spec.monitoring.interval_seconds)
            await evaluate(system, body, memo, logger)
        except ValidationError as exc:
            logger.error(f"cannot monitor: the object does not match the AISystem model: {exc}")
        except (kubernetes.client.ApiException, urllib3.exceptions.HTTPError) as exc:
            logger.warning(f"monitoring round not written, retrying: {exc}")
            interval = min(interval, _RETRY_SECONDS)
        await stopped.wait(interval)


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
