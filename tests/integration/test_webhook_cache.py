"""The webhook's cache, listed and watched from the real API server, holds only what admission reads."""

from __future__ import annotations

import asyncio
import time

import pytest

from aigov.clients.kube_reader import KubeReader
from aigov.policy.input import POLICY_STATUS_FIELDS
from aigov.webhook.cache import ClusterCache
from devkit.devcluster import ControlPlane
from devkit.loadgen import Admin, aisystem

pytestmark = pytest.mark.cluster


async def _until_cached(cache: ClusterCache, key: tuple[str, str]) -> None:
    deadline = time.monotonic() + 20
    while key not in cache.aisystems.items or ("", key[0]) not in cache.namespaces.items:
        assert time.monotonic() < deadline, f"{key} not cached in time"
        await asyncio.sleep(0.2)


async def test_the_cache_keeps_the_policy_view_of_aisystems_and_the_labels_of_namespaces(
    aigov_crds: ControlPlane, namespace: str
) -> None:
    admin = Admin(aigov_crds)
    aigov_crds.kubectl("label", "namespace", namespace, "team=ml")
    obj, status = aisystem("chat", namespace, bound=50, history=5)
    admin.aisystem(obj, status)
    reader = await KubeReader.connect(aigov_crds.kubeconfig)
    cache = ClusterCache(reader)
    task = asyncio.create_task(cache.run())
    try:
        await asyncio.wait_for(cache.wait_synced(), 20)
        assert cache.synced
        await _until_cached(cache, (namespace, "chat"))
        cached = cache.aisystems.items[(namespace, "chat")]
        assert cached["metadata"] == {"name": "chat", "namespace": namespace}
        assert set(cached["status"]) <= set(POLICY_STATUS_FIELDS)
        assert {"approvals", "assessments", "suspension"} <= set(cached["status"]), "what the policies read stays"
        assert cached["spec"] == obj["spec"]
        assert await cache.namespace(namespace) == {
            "name": namespace,
            "labels": {"team": "ml", **_name_label(namespace)},
        }
        assert set(cache.namespaces.items[("", namespace)]["metadata"]) == {"name", "labels"}
        # a change reaches the cache by the watch, trimmed the same way
        aigov_crds.kubectl("label", "aisystem", "chat", "-n", namespace, "x=y")
        deadline = time.monotonic() + 20
        while cache.aisystems.items[(namespace, "chat")] is cached:
            assert time.monotonic() < deadline, "the watch did not deliver the change"
            await asyncio.sleep(0.2)
        assert cache.aisystems.items[(namespace, "chat")]["metadata"] == {"name": "chat", "namespace": namespace}
    finally:
        task.cancel()
        await reader.close()


def _name_label(namespace: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": namespace}
