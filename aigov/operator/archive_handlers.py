"""The operator appends every governance record it observes to the AISystem's archive (`aigov.core.archive`).

An event handler, not a `kopf.on.delete` handler: it never holds a deletion up.
The tombstone is written when the operator sees `deletionTimestamp` (while another
finalizer holds the system) or, at the latest, the DELETED event. Failures are logged and retried on the next
event of the system; nothing is appended twice (`new_entries` is idempotent). A system deleted while no
operator ran gets its tombstone at the next start (`tombstone_the_missing`), observed then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes.client import ApiException

from aigov.core.archive import (
    ARCHIVE_PLURAL,
    MAX_ENTRIES,
    ArchivedSystem,
    archive_name,
    archive_object,
    by_system,
    canonical,
    facts,
    missing_tombstone,
    new_entries,
    tombstone,
)
from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.model import rfc3339
from aigov.operator.context import REGISTRY, context
from aigov.operator.kube import StatusWriter

_ARCHIVED: dict[str, bytes] = {}
"""A digest of the records last archived, by AISystem uid: an unchanged system costs no API call."""


async def append(kube: StatusWriter, body: kopf.Body, deleted: bool) -> int:
    """Append what the archive lacks of `body`'s records (all parts read, the last one extended); the count."""
    meta = body.metadata
    system = ArchivedSystem(namespace=meta.namespace or "", name=meta.name or "", uid=meta.uid or "")
    return await _extend(kube, system, lambda archived, now: new_entries(body, archived, now, deleted=deleted))


async def _extend(
    kube: StatusWriter, system: ArchivedSystem, derive: Callable[[list[dict[str, Any]], str], list[dict[str, Any]]]
) -> int:
    """Append to `system`'s archive the entries `derive` makes from those archived so far; the count."""
    parts: list[dict[str, Any]] = []
    while (found := await kube.get_cluster(ARCHIVE_PLURAL, archive_name(system.uid, len(parts) + 1))) is not None:
        parts.append(found)
    archived = [e for part in parts for e in part.get("entries") or []]
    entries = derive(archived, rfc3339(datetime.now(UTC)))
    pending = list(entries)
    if parts and len(last := parts[-1].get("entries") or []) < MAX_ENTRIES:
        room = MAX_ENTRIES - len(last)
        patch = {
            "metadata": {"resourceVersion": parts[-1]["metadata"]["resourceVersion"]},
            "entries": last + pending[:room],
        }
        await kube.patch_cluster(ARCHIVE_PLURAL, parts[-1]["metadata"]["name"], patch)
        pending = pending[room:]
    while pending:
        parts.append(archive_object(system, len(parts) + 1, pending[:MAX_ENTRIES]))
        await kube.create_cluster(ARCHIVE_PLURAL, parts[-1])
        pending = pending[MAX_ENTRIES:]
    return len(entries)


@kopf.on.event(GROUP, VERSION, PLURAL, id="archive", registry=REGISTRY)
async def archive_records(body: kopf.Body, type: str | None, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Archive the AISystem's records that are new since the last time (and its tombstone once it goes)."""
    uid = body.metadata.uid or ""
    deleted = type == "DELETED" or bool(body.metadata.get("deletionTimestamp"))
    key = hashlib.sha256(canonical([[str(kind), sha] for kind, sha, _, _ in facts(body)] + [deleted])).digest()
    if _ARCHIVED.get(uid) == key:
        return
    try:
        count = await append(context(memo).kube, body, deleted)
    except ApiException as exc:
        logger.warning(f"archive of {body.metadata.namespace}/{body.metadata.name} not written yet: {exc.reason}")
        return
    if count:
        logger.info(f"archived {count} record(s) of {body.metadata.namespace}/{body.metadata.name}")
    if type == "DELETED":
        _ARCHIVED.pop(uid, None)
    else:
        _ARCHIVED[uid] = key


@kopf.on.startup(registry=REGISTRY)
async def tombstone_the_missing(memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Archives of AISystems that are gone but have no tombstone (deleted while no operator ran) get one now.

    The archives are listed before the systems, so a system with an archive that is not listed was deleted
    (a re-created system has another uid). Never holds the start up: a failure is logged and left for the
    next start.
    """
    ctx = context(memo)
    try:
        archived = by_system(await ctx.kube.list_cluster(ARCHIVE_PLURAL))
        live = await ctx.kube.list_uids(PLURAL, ctx.namespaces)
        missing = [
            (namespace, name, uid)
            for (namespace, name, uid), entries in archived.items()
            if uid not in live and tombstone(entries) is None and (not ctx.namespaces or namespace in ctx.namespaces)
        ]
        for namespace, name, uid in missing:
            await _extend(ctx.kube, ArchivedSystem(namespace=namespace, name=name, uid=uid), missing_tombstone)
            logger.info(f"archived the deletion of {namespace}/{name}, which happened while no operator ran")
    except ApiException as exc:
        logger.warning(f"archives of deleted AISystems not checked: {exc.reason}")
