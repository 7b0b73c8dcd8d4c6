"""Keeps `status.boundWorkloads` current from watches: an index of labelled workloads, a watcher that wakes systems.

At start-up every workload of the kinds that bind is listed into the
operator's `bound` index (keyed by (namespace, AISystem name); see
`aigov.operator.watch_index`); then every watch event updates the index before
the watcher queues a round now (`OperatorContext.wake`) for the system the
workload is bound to and for the one it was bound to before (remembered in the
workload's per-object memo), so a workload that appears, changes its images,
loses its label or disappears shows in the AISystem's status without polling.
Events that change nothing bound (replica counts, status) wake nobody.
"""

from __future__ import annotations

from typing import Any, cast

import kopf

from aigov.core.binding import SystemKey, bound_system, summarise
from aigov.core.model import BoundWorkload
from aigov.core.workloads import KINDS, api_version, find_resource
from aigov.operator.context import REGISTRY, OperatorContext, context
from aigov.operator.watch_index import LIST_RETRY_SECONDS


def _selects(resource: kopf.Resource) -> bool:
    """The kinds of the table that bind, in their preferred version, wherever the API server serves them."""
    return resource.preferred and find_resource(KINDS, resource.group, resource.plural) is not None


def _binding(body: kopf.Body, resource: kopf.Resource, memo: Any) -> tuple[SystemKey, BoundWorkload] | None:
    key = bound_system(body, context(memo).config)
    if key is None:
        return None
    kind = body.get("kind") or resource.kind or resource.plural
    return key, summarise(body, api_version(resource.group, resource.version), kind)


@kopf.on.startup(registry=REGISTRY, backoff=LIST_RETRY_SECONDS)
async def list_bound_workloads(memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Index every labelled workload before kopf starts watching."""
    ctx = context(memo)
    resources = await _served(ctx)
    await ctx.bound.fill(lambda: _listing(ctx, resources, memo), ctx.wake)
    logger.info(f"bound workloads listed: {len(resources)} kinds")


@kopf.on.cleanup(registry=REGISTRY)
def stop_bound_workloads(memo: Any, **_: Any) -> None:
    """Stop re-listing."""
    context(memo).bound.stop()


async def _served(ctx: OperatorContext) -> list[kopf.Resource]:
    """The kinds that bind, in their group's preferred version, where the API server serves them (as `_selects`)."""
    preferred = await ctx.kube.preferred_versions()
    resources: list[kopf.Resource] = []
    for group in sorted({kind.group for kind in KINDS} & preferred.keys()):
        served = await ctx.kube.resources(group, preferred[group])
        resources += [
            kopf.Resource(group, preferred[group], k.resource, kind=k.kind, namespaced=True, preferred=True)
            for k in KINDS
            if k.group == group and k.resource in served
        ]
    return resources


async def _listing(
    ctx: OperatorContext, resources: list[kopf.Resource], memo: Any
) -> dict[str, tuple[SystemKey, BoundWorkload] | None]:
    found: dict[str, tuple[SystemKey, BoundWorkload] | None] = {}
    for resource in resources:
        async for page in ctx.kube.pages(resource.group, resource.version, resource.plural, ctx.namespaces):
            for item in page:
                found[item["metadata"]["uid"]] = _binding(kopf.Body(cast(kopf.RawBody, item)), resource, memo)
    return found


@kopf.on.event(_selects, id="wake-bound-system", registry=REGISTRY)
async def wake_bound_system(type: str, body: kopf.Body, resource: kopf.Resource, memo: Any, **_: Any) -> None:
    """Index the workload, then wake the AISystems whose bound workloads this event changed."""
    binding = None if type == "DELETED" else _binding(body, resource, memo)
    ctx = context(memo)
    ctx.bound.put(body.metadata.uid or "", binding)
    before = memo.get("binding")
    if binding == before:
        return
    for key in {pair[0] for pair in (binding, before) if pair is not None}:
        ctx.wake(key)
    memo["binding"] = binding
