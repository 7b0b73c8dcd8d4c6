"""Keeps each AISystem's phase, conditions, expiries and inventory true: one reconciler per AISystem.

A kopf daemon per AISystem is the only writer of its status. Each round it
reads the object (kopf keeps the daemon's `body` current), calls the pure
`plan`, writes the changed fields with a `resourceVersion` precondition (a stale
round writes nothing), emits the plan's Events only once the write succeeded,
then sleeps until the next expiry or the resync interval, whichever comes first,
unless woken earlier by an event of the AISystem (spec edits and records written
through the status subresource alike) or of a workload bound to it. A round that
finds nothing to change writes nothing, so its own writes never loop.
Peering stops the daemons of a replica that is not the active one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import kopf
import kubernetes
import urllib3
from pydantic import ValidationError

from aigov.core.binding import SystemKey
from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.model import AISystem, BoundWorkload
from aigov.core.reconcile import ReconcilePlan, plan
from aigov.operator.bound_workloads import INDEX
from aigov.operator.context import REGISTRY, OperatorContext, context

_RETRY_SECONDS = 5.0
"""How soon a round is retried after a transient API failure (unreachable, 429, 5xx); refusals wait for a resync."""


def _key(body: kopf.Body) -> SystemKey:
    return (body.metadata.namespace or "", body.metadata.name or "")


@kopf.on.event(GROUP, VERSION, PLURAL, id="wake-reconciler", registry=REGISTRY)
def wake_reconciler(body: kopf.Body, memo: Any, **_: Any) -> None:
    """Any change of the object, status records included, gets a fresh round."""
    context(memo).wake(_key(body))


@kopf.daemon(GROUP, VERSION, PLURAL, id="reconciler", cancellation_timeout=10.0, registry=REGISTRY)
async def reconciler(
    stopped: kopf.DaemonStopped, body: kopf.Body, memo: Any, logger: kopf.Logger, **kwargs: Any
) -> None:
    """Reconcile the AISystem until kopf stops this daemon (deletion, peering pause, shutdown)."""
    workloads: kopf.Index[SystemKey, BoundWorkload] = kwargs[INDEX]
    ctx = context(memo)
    key = _key(body)
    waker = ctx.register(key)
    try:
        while not stopped:
            waker.clear()
            delay = ctx.resync_seconds
            try:
                outcome = await reconcile(body, ctx, workloads.get(key, ()), logger)
                delay = outcome.seconds_until_due(datetime.now(UTC), ctx.resync_seconds)
            except ValidationError as exc:
                logger.error(f"cannot evaluate: the object does not match the AISystem model: {exc}")
            except kubernetes.client.ApiException as exc:
                transient = exc.status == 429 or exc.status >= 500
                logger.warning(f"status write refused ({exc.status} {exc.reason}): {exc.body}")
                delay = min(delay, _RETRY_SECONDS) if transient else delay
            except urllib3.exceptions.HTTPError as exc:
                logger.warning(f"status write failed, retrying: {exc}")
                delay = min(delay, _RETRY_SECONDS)
            await _sleep(stopped, waker, delay)
    finally:
        ctx.forget(key, waker)


async def reconcile(
    body: kopf.Body, ctx: OperatorContext, workloads: Iterable[BoundWorkload], logger: kopf.Logger
) -> ReconcilePlan:
    """One round: plan, write what changed, then announce it."""
    raw = dict(body)
    metadata = raw["metadata"]
    outcome = plan(AISystem.model_validate(raw), workloads, ctx.config, datetime.now(UTC))
    if not outcome.status:
        return outcome
    written = await ctx.kube.patch_status(
        metadata["namespace"], metadata["name"], metadata["resourceVersion"], outcome.status
    )
    if not written:
        logger.debug("the object changed while it was evaluated; its next event brings a fresh round")
        return outcome
    logger.info(f"status updated: {', '.join(sorted(outcome.status))}")
    for event in outcome.events:
        kopf.event(body, type=event.type.value, reason=event.reason, message=event.message)
    return outcome


async def _sleep(stopped: kopf.DaemonStopped, waker: asyncio.Event, seconds: float) -> None:
    """Until `seconds` pass, the waker is set, or the daemon is stopped."""
    waits = [asyncio.ensure_future(stopped.wait()), asyncio.ensure_future(waker.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
