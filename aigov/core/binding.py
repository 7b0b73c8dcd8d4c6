"""Which AISystem a workload is bound to, and how one is summarised in `status.boundWorkloads` (pure).

A workload is bound to the AISystem named by its system label (on the object or
its pod templates, where `aigov.core.workloads` says they sit) in its own namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from aigov.core.config import Config
from aigov.core.model import BoundWorkload
from aigov.core.workloads import system_label

SystemKey = tuple[str, str]
"""(namespace, AISystem name)."""


def bound_system(body: Mapping[str, Any], config: Config) -> SystemKey | None:
    """The AISystem `body` is labelled for (on the object or its pod template, as admission reads it), or None."""
    name = system_label(body, config)
    namespace = (body.get("metadata") or {}).get("namespace")
    return (namespace, name) if name and namespace else None


def _images(node: object) -> Iterator[str]:
    """Every string under a key named `image`, at any depth (pod templates, KServe predictors)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "image" and isinstance(value, str) and value:
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for item in node:
            yield from _images(item)


def summarise(body: Mapping[str, Any], api_version: str, kind: str) -> BoundWorkload:
    """The `status.boundWorkloads` entry for one workload object."""
    return BoundWorkload(
        api_version=api_version,
        kind=kind,
        name=(body.get("metadata") or {}).get("name", ""),
        images=sorted(set(_images(body.get("spec") or {}))),
    )


def inventory(workloads: Iterable[BoundWorkload]) -> list[BoundWorkload]:
    """Bound workloads in a stable order (API version, kind, name), without duplicates."""
    unique = {(w.api_version, w.kind, w.name): w for w in workloads}
    return [unique[key] for key in sorted(unique)]
