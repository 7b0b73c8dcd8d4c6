"""The operator appends every governance record it observes to the AISystem's archive (`aigov.core.archive`).

An event handler, not a `kopf.on.delete` handler: it never holds a deletion up.
The tombstone is written when the operator sees `deletionTimestamp` (while another
finalizer holds the system) or, at the latest, the DELETED event. Failures are logged and retried on the next
event of the system; nothing is appended twice (`new_entries` is idempotent).
"""

from __future__ import annotations

import hashlib
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
    canonical,
    facts,
    new_entries,
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
    parts: list[dict[str, Any]] = []
    while (found := await kube.get_cluster(ARCHIVE_PLURAL, archive_name(system.uid, len(parts) + 1))) is not None:
        parts.append(found)
    archived = [e for part in parts for e in part.get("entries") or []]
    entries = new_entries(body, archived, rfc3339(datetime.now(UTC)), deleted=deleted)
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
