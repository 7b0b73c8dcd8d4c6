"""Keeps `status.boundWorkloads` current from watches: an index of labelled workloads, a watcher that wakes systems.

kopf updates the `bound_workloads` index (keyed by (namespace, AISystem name))
before it calls any handler for the same event; the watcher then queues a round
now (`OperatorContext.wake`) for the system the workload is bound to and for the one it was
bound to before (remembered in the workload's per-object memo), so a workload
that appears, changes its images, loses its label or disappears shows in the
AISystem's status without polling. Events that change nothing bound (replica
counts, status) wake nobody.
"""

from __future__ import annotations

from typing import Any

import kopf

from aigov.core.binding import SystemKey, bound_system, summarise
from aigov.core.model import BoundWorkload
from aigov.core.workloads import KINDS, api_version, find_resource
from aigov.operator.context import REGISTRY, context

INDEX = "bound_workloads"
"""The index name (the indexing handler's id), as handlers receive it in their kwargs."""


def _selects(resource: kopf.Resource) -> bool:
    """The kinds of the table that bind, in their preferred version, wherever the API server serves them."""
    return resource.preferred and find_resource(KINDS, resource.group, resource.plural) is not None


def _binding(body: kopf.Body, resource: kopf.Resource, memo: Any) -> tuple[SystemKey, BoundWorkload] | None:
    key = bound_system(body, context(memo).config)
    if key is None:
        return None
    kind = body.get("kind") or resource.kind or resource.plural
    return key, summarise(body, api_version(resource.group, resource.version), kind)


@kopf.index(_selects, id=INDEX, registry=REGISTRY)
def bound_workloads(body: kopf.Body, resource: kopf.Resource, memo: Any, **_: Any) -> dict[SystemKey, BoundWorkload]:
    """Index a labelled workload under its AISystem (an empty mapping drops an unlabelled one)."""
    binding = _binding(body, resource, memo)
    return dict([binding]) if binding else {}


@kopf.on.event(_selects, id="wake-bound-system", registry=REGISTRY)
async def wake_bound_system(type: str, body: kopf.Body, resource: kopf.Resource, memo: Any, **_: Any) -> None:
    """Wake the AISystems whose bound workloads this event changed."""
    binding = None if type == "DELETED" else _binding(body, resource, memo)
    before = memo.get("binding")
    if binding == before:
        return
    ctx = context(memo)
    for key in {pair[0] for pair in (binding, before) if pair is not None}:
        ctx.wake(key)
    memo["binding"] = binding
