"""The operator's API calls beyond status writes: AISystems as stored now, and stopping and restoring workloads.

How each kind stops comes from the kinds table (`aigov.core.workloads`):
Deployments, StatefulSets, ReplicaSets and ReplicationControllers through the
`scale` subresource (what `kubectl scale` and HPAs use, and what the webhook
gates); (Cron)Jobs and other suspendable kinds with their `suspend` field; a
KServe InferenceService with the `serving.kserve.io/stop: "true"` annotation; a
DaemonSet with the node selector `aigov.io/stopped: "true"`, which no node
carries; a bare Pod is deleted and re-created from the suspension record. Kinds
without replicas report 1 running and 0 stopped (`aigov.core.suspension`).
Custom and named-group kinds go through the generic object API, which cannot
address the core group: Pods and ReplicationControllers go through CoreV1Api,
created on first use (importing it costs about 20 MiB of resident memory, which an
operator that never stops a bare Pod or a ReplicationController need not pay).
Calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from typing import Any

import kubernetes

from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.suspension import SetReplicas, WorkloadRef, kept_pod
from aigov.core.workloads import KINDS, StopMethod, WorkloadKind, find

_MERGE_PATCH = "application/merge-patch+json"


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class WorkloadScaler:
    """AISystem reads; stop-state reads and writes for the stoppable kinds."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self._client = kubernetes.client.ApiClient(configuration)
        self._api = kubernetes.client.CustomObjectsApi(self._client)

    @functools.cached_property
    def _core(self) -> kubernetes.client.CoreV1Api:
        return kubernetes.client.CoreV1Api(self._client)

    async def system(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The AISystem as stored now, or None when it is gone."""
        read = self._api.get_namespaced_custom_object
        found: dict[str, Any] | None = await asyncio.to_thread(_found, read, GROUP, VERSION, namespace, PLURAL, name)
        return found

    async def replicas(self, namespace: str, refs: list[WorkloadRef]) -> dict[WorkloadRef, int]:
        """The current replicas of each workload in `refs` that exists."""
        found = await asyncio.gather(*(asyncio.to_thread(self._replicas, namespace, ref) for ref in refs))
        return {ref: replicas for ref, replicas in zip(refs, found, strict=True) if replicas is not None}

    async def pods(self, namespace: str, refs: list[WorkloadRef]) -> dict[WorkloadRef, dict[str, Any]]:
        """What re-creates each bare Pod in `refs` that exists (`kept_pod`)."""
        pods = [ref for ref in refs if _entry(ref).stop == StopMethod.DELETE]
        found = await asyncio.gather(*(asyncio.to_thread(self._pod, namespace, ref.name) for ref in pods))
        return {ref: kept_pod(body) for ref, body in zip(pods, found, strict=True) if body is not None}

    async def apply(self, namespace: str, action: SetReplicas) -> None:
        """Stop or restore one workload (`ApiException` when the API refuses)."""
        await asyncio.to_thread(self._set, namespace, action)

    def _pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        pod = _found(self._core.read_namespaced_pod, name, namespace)
        return None if pod is None else _dict(self._client.sanitize_for_serialization(pod))  # type: ignore[no-untyped-call]

    def _replicas(self, namespace: str, ref: WorkloadRef) -> int | None:
        entry = _entry(ref)
        if entry.stop == StopMethod.DELETE:
            return None if self._pod(namespace, ref.name) is None else 1
        if (ref.group, entry.stop) == ("", StopMethod.SCALE):
            scale = _found(self._core.read_namespaced_replication_controller_scale, ref.name, namespace)
            return None if scale is None else int(scale.spec.replicas or 0)
        where = _where(entry, ref, namespace)
        if entry.stop == StopMethod.SCALE:
            body = _found(self._api.get_namespaced_custom_object_scale, *where)
            return None if body is None else int(_dict(_dict(body).get("spec")).get("replicas") or 0)
        body = _found(self._api.get_namespaced_custom_object, *where)
        return None if body is None else 0 if _field(_dict(body), entry.stop_field()) == entry.stop_value else 1

    def _set(self, namespace: str, action: SetReplicas) -> None:
        ref, replicas = action.workload, action.replicas
        entry = _entry(ref)
        if entry.stop == StopMethod.DELETE and replicas == 0:
            self._core.delete_namespaced_pod(ref.name, namespace)
        elif entry.stop == StopMethod.DELETE:
            self._core.create_namespaced_pod(namespace, _recreated(action.pod, ref))
        elif entry.stop == StopMethod.SCALE and not ref.group:
            scale = {"spec": {"replicas": replicas}}
            self._core.patch_namespaced_replication_controller_scale(
                ref.name, namespace, scale, _content_type=_MERGE_PATCH
            )
        elif entry.stop == StopMethod.SCALE:
            scale = {"spec": {"replicas": replicas}}
            where = _where(entry, ref, namespace)
            self._api.patch_namespaced_custom_object_scale(*where, scale, _content_type=_MERGE_PATCH)
        else:
            stopped = entry.stop_value if replicas == 0 else _unstopped(entry)
            body = _nested(entry.stop_field(), stopped)
            self._api.patch_namespaced_custom_object(*_where(entry, ref, namespace), body, _content_type=_MERGE_PATCH)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]


def _found(read: Callable[..., Any], *args: str) -> Any:
    """`read(*args)`, None when the object is gone (404)."""
    try:
        return read(*args)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _entry(ref: WorkloadRef) -> WorkloadKind:
    entry = find(KINDS, ref.group, ref.kind)
    if entry is None:
        raise ValueError(f"{ref}: not a kind aigov stops")
    return entry


def _where(entry: WorkloadKind, ref: WorkloadRef, namespace: str) -> tuple[str, str, str, str, str]:
    return (ref.group, ref.api_version.rpartition("/")[2], namespace, entry.resource, ref.name)


def _unstopped(entry: WorkloadKind) -> object:
    """What the stop field holds once restored: `suspend: false`; annotations and node selectors are removed."""
    return False if entry.stop == StopMethod.SUSPEND else None


def _recreated(kept: Mapping[str, Any] | None, ref: WorkloadRef) -> Any:
    """The V1Pod to re-create from the suspension record."""
    pod = kubernetes.client.V1Pod.from_dict(dict(kept)) if kept is not None else None
    if pod is None:
        raise ValueError(f"{ref}: the suspension record keeps no Pod to re-create")
    return pod


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
