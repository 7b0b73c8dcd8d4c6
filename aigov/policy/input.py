"""The one builder of the policy input, shared by the webhook and `aigov check`.

Pure: no I/O. `build` wraps an AdmissionReview v1 request, unchanged, with the
AISystem it names, the namespace and the time, which is all
`data.aigov.admission.decision` reads of its input (contract: policies/README.md),
plus the namespace's AIGovExceptions and the AISystem's current spec hash (and, for
an update of an AISystem, the one before). The configuration is not input: OPA
holds it as bundle data (`data.aigov.config`, `aigov.policy.bundle`).
`system_ref` says which AISystem a request names, so every caller resolves it
the same way; `admission_request` turns a manifest (or, for the audit, an object
already stored) into the dry-run CREATE request the API server would send.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from aigov.core import digests, model, workloads
from aigov.core.config import GROUP, KIND, Config
from aigov.core.workloads import KINDS, WorkloadKind

POLICY_STATUS_FIELDS = ("impactAssessment", "assessments", "approvals", "suspension", "retirement")
"""What the policies read of an AISystem's status (all of `approvals`: the latest entry per
approver counts). `boundWorkloads`, `suspensionHistory`, conditions and the rest stay out of the
input: a system with 1,000 bound workloads made every decision about it 4x slower.
tests/unit/test_policy_input.py checks every `status.<field>` the Rego reads is listed here."""
POLICY_METADATA_FIELDS = ("name", "namespace")
"""What the policies read of an AISystem's metadata (managedFields alone can be kilobytes)."""

RECORDING_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
"""Annotations of a workload that only record how it was applied (kubectl's is a whole copy of the
object); with `metadata.managedFields` they stay out of the input, often more than half of a real
review. The policies never read them (stop.rego ignores them when comparing what runs)."""

CHECK_USERNAME = "aigov-check"
AUDIT_USERNAME = "aigov-audit"


@dataclass(frozen=True, slots=True)
class Namespace:
    """The namespace of the object under review (its labels select the enforcement mode)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


def rfc3339(now: datetime) -> str:
    """`now` (timezone-aware) as RFC 3339 in UTC (`aigov.core.model.rfc3339`); naive times are refused."""
    if now.tzinfo is None:
        raise ValueError("the policy time must be timezone-aware")
    return model.rfc3339(now)


def build(
    request: dict[str, Any],
    aisystem: dict[str, Any] | None,
    namespace: Namespace,
    now: datetime,
    *,
    left: dict[str, Any] | None = None,
    exceptions: Sequence[Mapping[str, Any]] = (),
    extra_kinds: Sequence[WorkloadKind] = (),
) -> dict[str, Any]:
    """The input document of `data.aigov.admission.decision`.

    `left` is the AISystem an UPDATE relabels the workload away from (`left_system_ref`), if any:
    sent as `leftAISystem`. Both AISystems are sent as `policy_view`s. `exceptions`: the AIGovException
    objects of the request's namespace, as stored (metadata, spec, status); the policies decide which are honoured.
    `extra_kinds`: kinds to judge beyond the configured table, which OPA holds as bundle data (the audit's
    unreviewed kinds), sent as `extraKinds`.
    """
    return {
        "request": request_view(request),
        "aisystem": policy_view(aisystem),
        **({"specHash": digest} if (digest := current_spec_hash(aisystem)) else {}),
        **({"oldSpecHash": before} if (before := _old_spec_hash(request)) else {}),
        **({"leftAISystem": policy_view(left)} if left is not None else {}),
        "namespace": {"name": namespace.name, "labels": dict(namespace.labels)},
        "now": rfc3339(now),
        "exceptions": [dict(exc) for exc in exceptions],
        **({"extraKinds": [kind.policy_data() for kind in extra_kinds]} if extra_kinds else {}),
    }


def current_spec_hash(aisystem: Any) -> str | None:
    """`aigov.core.digests.spec_hash` of the AISystem's spec, sent as `specHash` (the policies compare approvals'
    with it and never compute it); None when there is no AISystem or its spec does not parse."""
    spec = aisystem.get("spec") if isinstance(aisystem, Mapping) else None
    if not isinstance(spec, Mapping):
        return None
    try:
        key = orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return _spec_hash(spec)
    return _cached_spec_hash(key)


@functools.lru_cache(maxsize=4096)
def _cached_spec_hash(spec: bytes) -> str | None:
    """The hash of a spec by its canonical JSON: the same stored spec is validated and hashed once, not on every
    decision about its workloads (about 1.4 ms each)."""
    return _spec_hash(orjson.loads(spec))


def _spec_hash(spec: Mapping[str, Any]) -> str | None:
    try:
        return digests.spec_hash(model.AISystemSpec.model_validate(spec))
    except ValidationError:
        return None


def _old_spec_hash(request: Mapping[str, Any]) -> str | None:
    """For an UPDATE of an AISystem itself, the spec hash before it (sent as `oldSpecHash`: the AISystem
    warnings name the approvals the update voids)."""
    kind = request.get("kind")
    if request.get("operation") != "UPDATE" or request.get("subResource") or not isinstance(kind, Mapping):
        return None
    if (kind.get("group"), kind.get("kind")) != (GROUP, KIND):
        return None
    return current_spec_hash(request.get("oldObject"))


def request_view(request: dict[str, Any]) -> dict[str, Any]:
    """`request` with its object and old object without `metadata.managedFields` and `RECORDING_ANNOTATIONS`.

    The same dict when there is nothing to leave out; anything not shaped like an object is passed as it is.
    """
    views = {key: view for key in ("object", "oldObject") if (view := _object_view(request.get(key))) is not None}
    return request | views if views else request


def _object_view(obj: Any) -> dict[str, Any] | None:
    """`obj` without what only records how it was applied; None when it has none of that (or is no object)."""
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    if not isinstance(metadata, Mapping):
        return None
    annotations = metadata.get("annotations")
    if not isinstance(annotations, Mapping) or not any(key in annotations for key in RECORDING_ANNOTATIONS):
        annotations = None
    if "managedFields" not in metadata and annotations is None:
        return None
    view = {key: value for key, value in metadata.items() if key != "managedFields"}
    if annotations is not None:
        view["annotations"] = {k: v for k, v in annotations.items() if k not in RECORDING_ANNOTATIONS}
    return dict(obj) | {"metadata": view}


def policy_view(aisystem: Any) -> Any:
    """`aisystem` with only the metadata and status fields the policies read; spec and the rest unchanged.

    Total: anything that is not an object (and a `metadata` or `status` that is not one) is passed as
    it is, so the policies judge it as sent.
    """
    if not isinstance(aisystem, Mapping):
        return aisystem
    view = dict(aisystem)
    for key, kept in (("metadata", POLICY_METADATA_FIELDS), ("status", POLICY_STATUS_FIELDS)):
        part = aisystem.get(key)
        if isinstance(part, Mapping):
            view[key] = {field: part[field] for field in kept if field in part}
    return view


def system_ref(request: Mapping[str, Any], config: Config) -> str | None:
    """The name of the AISystem (in the request's namespace) that `request` names.

    The object's label, or for DELETE the old object's. A `scale` subresource
    request carries a Scale without labels: callers resolve the scaled workload
    and read its label with `system_label`.
    """
    obj = request.get("oldObject") if request.get("operation") == "DELETE" else request.get("object")
    return workloads.system_label(obj, config)


def left_system_ref(request: Mapping[str, Any], config: Config) -> str | None:
    """The AISystem an UPDATE moves the workload away from: the old object's label when the new one differs."""
    if request.get("operation") != "UPDATE" or request.get("subResource"):
        return None
    before = workloads.system_label(request.get("oldObject"), config)
    return before if before and before != workloads.system_label(request.get("object"), config) else None


def resource_for(group: str, kind: str, kinds: Iterable[WorkloadKind] = KINDS) -> str:
    """The resource (plural) of `kind`: from the kinds table, else the lower-case plural."""
    entry = workloads.find(kinds, group, kind)
    return entry.resource if entry else f"{kind.lower()}s"


def admission_request(
    obj: Mapping[str, Any],
    namespace: str,
    kinds: Iterable[WorkloadKind] = KINDS,
    username: str = CHECK_USERNAME,
) -> dict[str, Any]:
    """The dry-run AdmissionReview v1 CREATE request the API server would send for `obj`, from `username`.

    A CREATE, not an UPDATE with `oldObject = object`: an unchanged update is not how the
    object came to be, and rules about what an update changes must not apply to it.
    """
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    kind = str(obj.get("kind", ""))
    given = obj.get("metadata")
    metadata = dict(given) if isinstance(given, Mapping) else {}
    metadata["namespace"] = namespace
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource_for(group, kind, kinds)}
    return {
        "uid": str(uuid.uuid4()),
        "kind": gvk,
        "resource": gvr,
        "requestKind": gvk,
        "requestResource": gvr,
        "name": str(metadata.get("name", "")),
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": username},
        "object": {**obj, "metadata": metadata},
        "oldObject": None,
        "dryRun": True,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
