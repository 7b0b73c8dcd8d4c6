"""Keeps each AISystem's phase, conditions, expiries and inventory true: a round at every change and when due.

Every event of an AISystem (spec edits and records written through the status
subresource alike) runs a round with the object kopf delivers: it calls the pure
`plan`, writes the changed fields with a `resourceVersion` precondition (a stale
round writes nothing), emits the plan's Events only once the write succeeded,
and sets when the outcome next changes by time alone (an expiry, or an expiry
entering the warning window) in the operator's one `ExpiryQueue`. When that
time comes, or a workload bound to the system changes, the queue's task reads
the object afresh and runs the same round. A round that finds nothing to change
writes nothing, so its own writes never loop, and nothing runs while nothing
is due. Transient API failures are retried after a few seconds; `--resync`
(off by default) re-reads every system at least that often.
Peering pauses kopf's watches on a replica that is not the active one; a round
its queue still runs re-reads the object and writes only what is still
missing, under the same precondition, so nothing is written or announced twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

import kopf
import kubernetes
import urllib3
from pydantic import ValidationError

from aigov.core.binding import SystemKey
from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.model import AISystem, BoundWorkload
from aigov.core.reconcile import ReconcilePlan, plan
from aigov.operator.cluster import WorkloadScaler
from aigov.operator.context import REGISTRY, OperatorContext, context
from aigov.operator.expiry_queue import RETRY_SECONDS
from aigov.operator.monitoring import monitoring
from aigov.operator.watch_index import WatchIndex

_LOG = logging.getLogger(__name__)
_LOGGING = kopf.OperatorSettings()
"""For the queue's object loggers, which log like kopf's and post nothing."""


def _key(body: kopf.Body) -> SystemKey:
    return (body.metadata.namespace or "", body.metadata.name or "")


@kopf.on.event(GROUP, VERSION, PLURAL, id="reconciler", registry=REGISTRY)
async def on_event(type: str | None, body: kopf.Body, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Any change of the object, status records included: a round now, then the next due time."""
    ctx = context(memo)
    index = ctx.bound
    # Started from a handler, so the queue's task can post Events through kopf like the handlers do.
    ctx.queue.start(functools.partial(_due_round, ctx, index, monitoring(memo).cluster), _LOG)
    if type == "DELETED":
        ctx.queue.set(_key(body), None)
        return
    ctx.queue.set(_key(body), await round_of(body, ctx, index, logger))


@kopf.on.cleanup(registry=REGISTRY)
def stop_queue(memo: Any, **_: Any) -> None:
    """Stop the queue's task."""
    context(memo).queue.stop()


async def _due_round(
    ctx: OperatorContext,
    index: WatchIndex[BoundWorkload],
    cluster: WorkloadScaler,
    key: SystemKey,
) -> None:
    """The round of a system that came due: read it afresh (gone: nothing to do), run it, queue the next."""
    raw = await cluster.system(*key)
    if raw is not None:
        body = kopf.Body(cast(kopf.RawBody, raw))
        logger = kopf.LocalObjectLogger(body=body, settings=_LOGGING)
        ctx.queue.set(key, await round_of(body, ctx, index, logger))


async def round_of(
    body: kopf.Body, ctx: OperatorContext, index: WatchIndex[BoundWorkload], logger: kopf.Logger
) -> float | None:
    """One round, its failures logged; seconds until the next one is due (None: at the next change)."""
    resync = ctx.resync_seconds or None
    try:
        outcome = await reconcile(body, ctx, index.get(_key(body)), logger)
        return outcome.seconds_until_due(datetime.now(UTC), ctx.resync_seconds)
    except ValidationError as exc:
        logger.error(f"cannot evaluate: the object does not match the AISystem model: {exc}")
    except kubernetes.client.ApiException as exc:
        logger.warning(f"status write refused ({exc.status} {exc.reason}): {exc.body}")
        if exc.status == 429 or exc.status >= 500:  # transient; refusals wait for a change
            return RETRY_SECONDS
    except urllib3.exceptions.HTTPError as exc:
        logger.warning(f"status write failed, retrying: {exc}")
        return RETRY_SECONDS
    return resync


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
