"""The AISystem record archive (`AISystemArchive`, aigov.io/v1alpha1, cluster-scoped), as data. Pure, no I/O.

One archive per AISystem identity (namespace, name, uid) holds an append-only,
sha256-chained list of entries: every governance record the operator observed
(assessment, approval, suspension, resume, an approver's retirement), every spec
change (with its hash) and, last, the deletion tombstone.
Each entry carries the operator's observation time (its own clock, not the
record's person-supplied timestamps) and who wrote the record. Being
cluster-scoped, it outlives the AISystem and its namespace;
`aigov.install.archive_policy` lets only the operator create and append, and only
retention admins delete.

`new_entries` derives entries from an AISystem as it is now and the archive as it
is: re-running it on the same object yields nothing (idempotent). An archive
object holds at most `MAX_ENTRIES` entries of at most `MAX_RECORD_BYTES` each
(well under etcd's 1.5 MiB); the next entries go to part 2, 3, ... whose chain
continues from the previous part's last entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import orjson
from pydantic import Field

from aigov.core.config import API_VERSION
from aigov.core.model import ObjectMeta, Timestamp, _Model

ARCHIVE_KIND = "AISystemArchive"
ARCHIVE_PLURAL = "aisystemarchives"
MAX_ENTRIES = 100
MAX_RECORD_BYTES = 8192
"""A record larger than this is archived as its sha256 and size only (100 x 8 KiB stays far below 1.5 MiB)."""
GENESIS = "0" * 64
_PRESERVE: dict[str, Any] = {"x-kubernetes-preserve-unknown-fields": True}


class EntryKind(StrEnum):
    """What an archive entry records."""

    SPEC = "spec"
    RETIREMENT = "retirement"
    ASSESSMENT = "assessment"
    APPROVAL = "approval"
    SUSPENSION = "suspension"
    RESUME = "resume"
    DELETED = "deleted"


class ArchivedSystem(_Model):
    """The AISystem an archive belongs to."""

    namespace: str = Field(description="The AISystem's namespace.")
    name: str = Field(description="The AISystem's name.")
    uid: str = Field(description="The AISystem's uid (a re-created namesake gets an archive of its own).")


class ArchiveSpec(_Model):
    """Which system and which part of its archive."""

    system: ArchivedSystem = Field(description="The AISystem archived.")
    part: int = Field(default=1, ge=1, description="Part number; part N+1 continues part N's chain.")


class ArchiveEntry(_Model):
    """One governance record as the operator observed it, chained to the entry before."""

    kind: EntryKind = Field(description="What the entry records.")
    observed_at: Timestamp = Field(description="When the operator observed the record (the operator's clock).")
    by: str | None = Field(default=None, description="Who wrote the record, where the record names its author.")
    record_sha256: str = Field(description="SHA-256 of the record (canonical JSON).")
    record: dict[str, Any] = Field(
        description="The record as observed (only `truncated` and `size` when it was too large).",
        json_schema_extra=_PRESERVE,
    )
    previous: str = Field(description="The previous entry's sha256 (64 zeros for the first).")
    sha256: str = Field(description="SHA-256 over `previous` and this entry's other fields.")


class AISystemArchive(_Model):
    """The durable, append-only record history of one AISystem."""

    api_version: str = Field(default=API_VERSION, description="`aigov.io/v1alpha1`.")
    kind: str = Field(default=ARCHIVE_KIND, description="`AISystemArchive`.")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: ArchiveSpec = Field(description="The system archived and the part number.")
    entries: list[ArchiveEntry] = Field(
        default_factory=list,
        description="The entries, oldest first; append-only.",
        json_schema_extra={"x-kubernetes-list-type": "atomic"},
    )


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no whitespace."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _sha(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def archive_name(uid: str, part: int = 1) -> str:
    """The archive object's name: the system's uid, with `-N` from part 2 on."""
    return uid if part == 1 else f"{uid}-{part}"


Fact = tuple[EntryKind, str, dict[str, Any], str | None]
"""(kind, record sha256, record, author)."""


def _fact(kind: EntryKind, record: Mapping[str, Any], by: str | None) -> Fact:
    return kind, _sha(record), dict(record), by


def facts(obj: Mapping[str, Any]) -> list[Fact]:
    """(kind, record sha256, record, author) of every governance record the AISystem holds now."""
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    out = [_fact(EntryKind.SPEC, {"generation": meta.get("generation"), "specSha256": _sha(spec), "spec": spec}, None)]
    for assessment in (status.get("impactAssessment"), *(status.get("assessments") or [])):
        if assessment:
            out.append(_fact(EntryKind.ASSESSMENT, assessment, assessment.get("assessor")))
    out.extend(_fact(EntryKind.APPROVAL, a, a.get("approver")) for a in status.get("approvals") or [])
    for suspension in (*(status.get("suspensionHistory") or []), status.get("suspension")):
        if not suspension:
            continue
        out.append(_fact(EntryKind.SUSPENSION, _suspended(suspension), suspension.get("suspendedBy")))
        if suspension.get("resumedAt"):
            out.append(_fact(EntryKind.RESUME, _resumed(suspension), suspension.get("resumedBy")))
    retirement = status.get("retirement")
    if retirement:
        out.append(_fact(EntryKind.RETIREMENT, retirement, retirement.get("retiredBy")))
    return out


_RESUME_FIELDS = ("resumedAt", "resumedBy", "justification")


def _suspended(suspension: Mapping[str, Any]) -> dict[str, Any]:
    """A suspension record without its resume and the operator's bookkeeping (it is the same suspension)."""
    dropped = {"active", "previousReplicas", *_RESUME_FIELDS}
    return {k: v for k, v in suspension.items() if k not in dropped}


def _resumed(suspension: Mapping[str, Any]) -> dict[str, Any]:
    return {"since": suspension.get("since"), **{k: suspension[k] for k in _RESUME_FIELDS if k in suspension}}


def link(previous: str, kind: EntryKind, observed_at: str, by: str | None, record: Mapping[str, Any]) -> dict[str, Any]:
    """One chained entry (wire form); the record is bounded to `MAX_RECORD_BYTES`."""
    record_sha256 = _sha(record)
    size = len(canonical(record))
    kept = dict(record) if size <= MAX_RECORD_BYTES else {"truncated": True, "size": size}
    body = {
        "kind": str(kind),
        "observedAt": observed_at,
        **({"by": by} if by else {}),
        "recordSha256": record_sha256,
        "record": kept,
        "previous": previous,
    }
    return {**body, "sha256": _sha(body)}


def new_entries(
    obj: Mapping[str, Any], archived: Sequence[Mapping[str, Any]], observed_at: str, *, deleted: bool = False
) -> list[dict[str, Any]]:
    """The entries to append for AISystem `obj` given the entries `archived` so far (all parts, oldest first).

    A record is new when its (kind, sha256) was never archived; the spec, when its sha256 differs from the last
    spec entry's (a reverted spec is a change too; a new generation alone, as deletion makes, is not).
    `deleted` adds the tombstone once.
    """
    seen = {(e.get("kind"), e.get("recordSha256")) for e in archived}
    last_spec = next(
        ((e.get("record") or {}).get("specSha256") for e in reversed(archived) if e.get("kind") == EntryKind.SPEC), None
    )
    if any(e.get("kind") == EntryKind.DELETED for e in archived):
        return []
    head = archived[-1]["sha256"] if archived else GENESIS
    out: list[dict[str, Any]] = []
    for kind, sha, record, by in facts(obj):
        fresh = record["specSha256"] != last_spec if kind == EntryKind.SPEC else (str(kind), sha) not in seen
        if fresh:
            out.append(entry := link(head, kind, observed_at, by, record))
            head = entry["sha256"]
            seen.add((str(kind), sha))
    if deleted:
        meta = obj.get("metadata") or {}
        last = {"deletionTimestamp": meta.get("deletionTimestamp"), "resourceVersion": meta.get("resourceVersion")}
        tombstone = {key: value for key, value in last.items() if value is not None}  # the API server prunes nulls
        out.append(link(head, EntryKind.DELETED, observed_at, None, tombstone))
    return out


def missing_tombstone(archived: Sequence[Mapping[str, Any]], observed_at: str) -> list[dict[str, Any]]:
    """The tombstone of a system found gone without one (deleted while no operator watched), observed now."""
    if tombstone(archived) is not None:
        return []
    head = archived[-1]["sha256"] if archived else GENESIS
    return [link(head, EntryKind.DELETED, observed_at, None, {"foundMissing": True})]


def verify(entries: Iterable[Mapping[str, Any]]) -> str | None:
    """None when every entry's hash is right and links to the one before; else what is wrong, and where."""
    head = GENESIS
    for index, entry in enumerate(entries):
        body = {k: v for k, v in entry.items() if k != "sha256"}
        if entry.get("previous") != head:
            return f"entry {index} does not link to the entry before it"
        if _sha(body) != entry.get("sha256"):
            return f"entry {index} was changed after it was written"
        head = str(entry["sha256"])
    return None


def archive_object(system: ArchivedSystem, part: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A new archive object (part `part`) holding `entries`."""
    return {
        "apiVersion": API_VERSION,
        "kind": ARCHIVE_KIND,
        "metadata": {"name": archive_name(system.uid, part), "labels": {"app.kubernetes.io/name": "aigov"}},
        "spec": {"system": system.model_dump(by_alias=True), "part": part},
        "entries": entries,
    }


def by_system(archives: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """(namespace, name, uid) -> every entry of that system's archive parts, in part order."""
    parts: dict[tuple[str, str, str], list[tuple[int, list[dict[str, Any]]]]] = {}
    for archive in archives:
        spec = archive.get("spec") or {}
        system = spec.get("system") or {}
        key = (system.get("namespace", ""), system.get("name", ""), system.get("uid", ""))
        parts.setdefault(key, []).append((int(spec.get("part", 1)), list(archive.get("entries") or [])))
    return {key: [e for _, part in sorted(found) for e in part] for key, found in parts.items()}


def tombstone(entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The deletion entry, if the system was deleted."""
    return next((e for e in entries if e.get("kind") == EntryKind.DELETED), None)
