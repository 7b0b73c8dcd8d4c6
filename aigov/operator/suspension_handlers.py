"""Makes the workloads follow `status.suspension`: stop them on suspension, restore them on resume.

Every event of an AISystem (the operator's own suspension writes, a person's
`kubectl aigov suspend|resume`, the initial listing after a restart) runs
`converge`; while a suspension needs attention, the operator's recheck queue
(`OperatorContext.recheck`) re-runs it every few seconds with the object read afresh,
which retries failed API calls and stops workloads scaled up behind the webhook's back
(a queue rather than a kopf timer: kopf keeps the whole body of every object of a
resource that has timers or daemons).
`converge` reads the current replicas, calls the pure `aigov.core.suspension.plan`
and performs it in its order: record (status write with a `resourceVersion`
precondition), then the replica changes, then the archive write. A failed or
refused step ends the run; the next event or tick starts over and converges.
Runs for one AISystem are serialised by a lock of its own, kept only while in use.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from datetime import UTC, datetime
from typing import Any, cast

import kopf
import kubernetes
import urllib3
from pydantic import ValidationError

from aigov.core.binding import SystemKey
from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.model import AISystem, AISystemStatus, BoundWorkload, Suspension
from aigov.core.suspension import SuspensionPlan, WorkloadRef, needs_attention, plan, to_read
from aigov.operator.context import REGISTRY, context
from aigov.operator.monitoring import monitoring
from aigov.operator.watch_index import WatchIndex

RECHECK_SECONDS = 15.0
"""How often a suspension that needs attention is re-checked without an event."""

_LOCKS: weakref.WeakValueDictionary[SystemKey, asyncio.Lock] = weakref.WeakValueDictionary()
"""The lock of each AISystem whose run is under way or waiting (gone once no run holds it)."""
_LOG = logging.getLogger(__name__)
_LOGGING = kopf.OperatorSettings()
"""For the re-checks' object loggers, which log like kopf's and post nothing."""


def _attention(status: Any) -> bool:
    try:
        return needs_attention(AISystemStatus.model_validate(dict(status or {})))
    except ValidationError:
        return False


@kopf.on.event(GROUP, VERSION, PLURAL, id="suspension", registry=REGISTRY)
async def on_event(type: str | None, body: kopf.Body, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Converge on every change of the AISystem; queue a re-check while it needs attention."""
    ctx = context(memo)
    queue, index = ctx.recheck, ctx.bound
    # Started from a handler, so the queue's tasks can post Events through kopf like the handlers do.
    queue.start(functools.partial(recheck, memo, index), _LOG)
    key = (body.metadata.namespace or "", body.metadata.name or "")
    if type == "DELETED":
        queue.set(key, None)
        return
    await converge(body, memo, index, logger)
    if not _attention(body.get("status")):
        queue.set(key, None)
    elif not queue.pending(key):
        queue.set(key, RECHECK_SECONDS)


@kopf.on.cleanup(registry=REGISTRY)
def stop_rechecks(memo: Any, **_: Any) -> None:
    """Stop the recheck queue's tasks."""
    context(memo).recheck.stop()


async def recheck(memo: Any, index: WatchIndex[BoundWorkload], key: SystemKey) -> None:
    """Converge again with the system as stored now, and queue the next re-check while it still needs attention."""
    raw = await monitoring(memo).cluster.system(*key)
    if raw is None or not _attention(raw.get("status")):
        return
    body = kopf.Body(cast(kopf.RawBody, raw))
    await converge(body, memo, index, kopf.LocalObjectLogger(body=body, settings=_LOGGING))
    context(memo).recheck.set(key, RECHECK_SECONDS)


async def converge(body: kopf.Body, memo: Any, index: WatchIndex[BoundWorkload], logger: kopf.Logger) -> None:
    """One run: read, plan, record, act, archive; a failure is logged and left to the next run."""
    key = (body.metadata.namespace or "", body.metadata.name or "")
    lock = _LOCKS.setdefault(key, asyncio.Lock())
    async with lock:
        try:
            system = AISystem.model_validate(dict(body))
        except ValidationError:
            return  # the reconciler reports the object; nothing to act on
        if not needs_attention(system.status):
            return
        try:
            await _run(system, body, memo, index, logger)
        except (kubernetes.client.ApiException, urllib3.exceptions.HTTPError) as exc:
            logger.warning(f"suspension not converged yet, retrying within {RECHECK_SECONDS:.0f}s: {exc}")


async def _run(
    system: AISystem, body: kopf.Body, memo: Any, index: WatchIndex[BoundWorkload], logger: kopf.Logger
) -> None:
    namespace, name = system.metadata.namespace or "", system.metadata.name or ""
    cluster, kube = monitoring(memo).cluster, context(memo).kube
    bound = [WorkloadRef(w.api_version, w.kind, w.name) for w in index.get((namespace, name))]
    refs = to_read(system.status, bound)
    current = await cluster.replicas(namespace, refs)
    pods = await cluster.pods(namespace, refs) if system.status.suspension and system.status.suspension.active else {}
    steps = plan(system.status, current, datetime.now(UTC), pods)
    if not steps:
        return
    version = system.metadata.resource_version or ""
    if steps.record:
        if not await kube.patch_status(namespace, name, version, steps.record):
            return  # changed meanwhile: its event brings a fresh run
        logger.info(f"suspension recorded: {steps.record}")
    for action in steps.actions:
        await cluster.apply(namespace, action)
    retirement = system.status.retirement
    if retirement is not None:
        _announce(
            body, "Warning", "WorkloadsStopped", f"retired by {retirement.retired_by}: stopped {_list(steps)}", logger
        )
        return
    suspension = system.status.suspension
    assert suspension is not None
    if suspension.active:
        if steps.actions:
            _announce(body, "Warning", "WorkloadsStopped", f"{_why(suspension)}: stopped {_list(steps)}", logger)
        return
    if steps.actions or steps.missing:
        restored = f"restored {_list(steps)}" if steps.actions else "nothing to restore"
        gone = f"; gone meanwhile: {', '.join(map(str, steps.missing))}" if steps.missing else ""
        by = f" by {suspension.resumed_by}" if suspension.resumed_by else ""
        _announce(body, "Normal", "WorkloadsRestored", f"resumed{by}: {restored}{gone}", logger)
    if await kube.patch_status(namespace, name, version, steps.archive):
        logger.info("suspension archived in suspensionHistory")


def _why(suspension: Suspension) -> str:
    check = f", check {suspension.check}" if suspension.check else ""
    return f"suspended ({suspension.reason or 'no reason given'}{check})"


def _list(steps: SuspensionPlan) -> str:
    return ", ".join(map(str, steps.actions))


def _announce(body: kopf.Body, kind: str, reason: str, message: str, logger: kopf.Logger) -> None:
    logger.info(f"{reason}: {message}")
    kopf.event(body, type=kind, reason=reason, message=message)
