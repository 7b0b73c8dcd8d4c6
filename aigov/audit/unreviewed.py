"""Custom kinds the webhook does not review whose objects embed pod templates.

Pure: reads a CustomResourceDefinition's schema and finds the paths of its
PodSpecs (an object schema with a `containers` array of objects with an
`image`), as the kinds table writes them (`*` for list items and map values,
at most two). Such a kind becomes a `wrapper` entry the audit judges its
objects with, through the same policies, to tell whether they carry AI.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from aigov.core.workloads import MAX_WILDCARDS, WILDCARD, Role, WorkloadKind

MAX_DEPTH = 12
IGNORED_GROUPS = frozenset({"aigov.io", "openreports.io", "wgpolicyk8s.io", "kopf.dev"})


def _is_pod_spec(schema: Mapping[str, Any]) -> bool:
    containers = (schema.get("properties") or {}).get("containers") or {}
    items = containers.get("items") or {}
    return containers.get("type") == "array" and "image" in (items.get("properties") or {})


def pod_spec_paths(schema: Mapping[str, Any], prefix: tuple[str, ...] = (), depth: int = 0) -> Iterator[str]:
    """Dotted paths of every PodSpec in an OpenAPI v3 `schema`."""
    if depth > MAX_DEPTH or prefix.count(WILDCARD) > MAX_WILDCARDS:
        return
    if prefix and _is_pod_spec(schema):
        yield ".".join(prefix)
        return
    for name, child in (schema.get("properties") or {}).items():
        if isinstance(child, Mapping):
            yield from pod_spec_paths(child, (*prefix, name), depth + 1)
    for key in ("items", "additionalProperties"):
        child = schema.get(key)
        if isinstance(child, Mapping):
            yield from pod_spec_paths(child, (*prefix, WILDCARD), depth + 1)


def candidate(crd: Mapping[str, Any], reviewed: set[tuple[str, str]]) -> WorkloadKind | None:
    """A wrapper entry for a namespaced CRD the table lacks whose served version embeds pod specs, else None."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, kind = str(spec.get("group", "")), str(names.get("kind", ""))
    if spec.get("scope") != "Namespaced" or group in IGNORED_GROUPS or (group, kind) in reviewed:
        return None
    for version in spec.get("versions") or []:
        if not version.get("served"):
            continue
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or {}
        paths = tuple(dict.fromkeys(pod_spec_paths(schema)))
        if paths:
            return WorkloadKind(
                group=group,
                version=str(version.get("name", "")),
                kind=kind,
                resource=str(names.get("plural", "")),
                role=Role.WRAPPER,
                pod_specs=paths,
            )
    return None
