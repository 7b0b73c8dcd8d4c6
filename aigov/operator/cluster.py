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
from enum import Enum
from typing import Any

import kubernetes

from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.suspension import SetReplicas, WorkloadRef

KSERVE_STOP = "serving.kserve.io/stop"
_MERGE_PATCH = "application/merge-patch+json"


class _Stop(Enum):
    SCALE = "scale"
    SUSPEND = "suspend"
    ANNOTATION = "annotation"


_KINDS: dict[str, tuple[str, _Stop]] = {
    "Deployment": ("deployments", _Stop.SCALE),
    "StatefulSet": ("statefulsets", _Stop.SCALE),
    "Job": ("jobs", _Stop.SUSPEND),
    "CronJob": ("cronjobs", _Stop.SUSPEND),
    "InferenceService": ("inferenceservices", _Stop.ANNOTATION),
}


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
        plural, stop = _KINDS[ref.kind]
        version = ref.api_version.rpartition("/")[2]
        body = self._get((ref.group, version, namespace, plural, ref.name), scale=stop == _Stop.SCALE)
        if body is None:
            return None
        if stop == _Stop.SCALE:
            return int(_dict(body.get("spec")).get("replicas") or 0)
        if stop == _Stop.SUSPEND:
            return 0 if _dict(body.get("spec")).get("suspend") else 1
        annotations = _dict(_dict(body.get("metadata")).get("annotations"))
        return 0 if annotations.get(KSERVE_STOP) == "true" else 1

    def _set(self, namespace: str, ref: WorkloadRef, replicas: int) -> None:
        plural, stop = _KINDS[ref.kind]
        where = (ref.group, ref.api_version.rpartition("/")[2], namespace, plural, ref.name)
        body: dict[str, Any]
        if stop == _Stop.SCALE:
            body = {"spec": {"replicas": replicas}}
            self._api.patch_namespaced_custom_object_scale(*where, body, _content_type=_MERGE_PATCH)
            return
        if stop == _Stop.SUSPEND:
            body = {"spec": {"suspend": replicas == 0}}
        else:
            body = {"metadata": {"annotations": {KSERVE_STOP: "true" if replicas == 0 else None}}}
        self._api.patch_namespaced_custom_object(*where, body, _content_type=_MERGE_PATCH)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]
