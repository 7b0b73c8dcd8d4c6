"""The operator's API calls beyond status writes: AISystems as stored now, and the replicas a suspension sets.

Deployments and StatefulSets go through the `scale` subresource (what
`kubectl scale` and HPAs use, and what the webhook gates); a KServe
InferenceService stops with the `serving.kserve.io/stop: "true"` annotation and
a (Cron)Job with `spec.suspend`. Those report 1 replica when running and 0 when
stopped (`aigov.core.suspension`). Every kind goes through the client's generic
object API; calls run in worker threads.
"""

from __future__ import annotations

import asyncio
from typing import Any

import kubernetes

from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.suspension import SetReplicas, WorkloadRef
from aigov.core.workloads import KINDS, StopMethod, WorkloadKind, find

_MERGE_PATCH = "application/merge-patch+json"


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class WorkloadScaler:
    """AISystem reads; replica reads and writes for the stoppable kinds."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self._client = kubernetes.client.ApiClient(configuration)
        self._api = kubernetes.client.CustomObjectsApi(self._client)

    async def system(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The AISystem as stored now, or None when it is gone."""
        found: dict[str, Any] | None = await asyncio.to_thread(self._get, (GROUP, VERSION, namespace, PLURAL, name))
        return found

    async def replicas(self, namespace: str, refs: list[WorkloadRef]) -> dict[WorkloadRef, int]:
        """The current replicas of each workload in `refs` that exists."""
        found = await asyncio.gather(*(asyncio.to_thread(self._replicas, namespace, ref) for ref in refs))
        return {ref: replicas for ref, replicas in zip(refs, found, strict=True) if replicas is not None}

    async def apply(self, namespace: str, action: SetReplicas) -> None:
        """Set one workload's replicas (`ApiException` when the API refuses)."""
        await asyncio.to_thread(self._set, namespace, action.workload, action.replicas)

    def _get(self, where: tuple[str, str, str, str, str], scale: bool = False) -> dict[str, Any] | None:
        """The object (or its scale) at (group, version, namespace, plural, name), None when it is gone."""
        read = self._api.get_namespaced_custom_object_scale if scale else self._api.get_namespaced_custom_object
        try:
            return _dict(read(*where))
        except kubernetes.client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def _replicas(self, namespace: str, ref: WorkloadRef) -> int | None:
        entry = _entry(ref)
        body = self._get(_where(entry, ref, namespace), scale=entry.stop == StopMethod.SCALE)
        if body is None:
            return None
        if entry.stop == StopMethod.SCALE:
            return int(_dict(body.get("spec")).get("replicas") or 0)
        if entry.stop == StopMethod.SUSPEND:
            return 0 if _field(body, entry.stop_path.split(".")) is True else 1
        annotations = _dict(_dict(body.get("metadata")).get("annotations"))
        return 0 if annotations.get(entry.stop_path) == "true" else 1

    def _set(self, namespace: str, ref: WorkloadRef, replicas: int) -> None:
        entry = _entry(ref)
        where = _where(entry, ref, namespace)
        if entry.stop == StopMethod.SCALE:
            scale = {"spec": {"replicas": replicas}}
            self._api.patch_namespaced_custom_object_scale(*where, scale, _content_type=_MERGE_PATCH)
            return
        if entry.stop == StopMethod.SUSPEND:
            body = _nested(entry.stop_path.split("."), replicas == 0)
        else:
            body = {"metadata": {"annotations": {entry.stop_path: "true" if replicas == 0 else None}}}
        self._api.patch_namespaced_custom_object(*where, body, _content_type=_MERGE_PATCH)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]


def _entry(ref: WorkloadRef) -> WorkloadKind:
    entry = find(KINDS, ref.group, ref.kind)
    if entry is None:
        raise ValueError(f"{ref}: not a kind aigov stops")
    return entry


def _where(entry: WorkloadKind, ref: WorkloadRef, namespace: str) -> tuple[str, str, str, str, str]:
    return (ref.group, ref.api_version.rpartition("/")[2], namespace, entry.resource, ref.name)


def _field(body: dict[str, Any], path: list[str]) -> object:
    value: object = body
    for key in path:
        value = _dict(value).get(key)
    return value


def _nested(path: list[str], value: object) -> dict[str, Any]:
    """`{"a": {"b": value}}` for path `["a", "b"]`."""
    body: dict[str, Any] = {path[-1]: value}
    for key in reversed(path[:-1]):
        body = {key: body}
    return body
