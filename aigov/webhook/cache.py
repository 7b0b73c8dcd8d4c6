"""The webhook's view of the cluster, kept by list+watch so admission needs no API call.

AISystems, AIGovExceptions and namespaces are listed once, then watched from the list's
resourceVersion (with bookmarks); a watch that ends is resumed from the last
version seen, and a 410 Gone lists again. Lookups read the cache; a miss costs
one GET, so an AISystem created a moment ago is never refused for being
unknown. A watch that fails (the API server or etcd restarting) makes the cache
stale until a fresh list: meanwhile every lookup is a GET, so a revocation or a
suspension written the moment the API server is back is never missed. The
parent of a scaled Deployment or StatefulSet is read with one GET: scale
requests are rare and a cluster's workloads are many. The cache holds what admission
reads: an AISystem's policy view (no bound workloads, history or conditions), a
namespace's name and labels, an exception without managedFields.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aigov.clients.kube_reader import GoneError, KubeReader, KubeReadError
from aigov.core.config import EXCEPTION_PLURAL, GROUP, PLURAL, VERSION
from aigov.policy.input import policy_view
from aigov.telemetry.metrics import AISYSTEM_CACHE_SIZE

log = logging.getLogger(__name__)

Key = tuple[str, str]
Object = dict[str, Any]

AISYSTEMS_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
EXCEPTIONS_PATH = f"/apis/{GROUP}/{VERSION}/{EXCEPTION_PLURAL}"
NAMESPACES_PATH = "/api/v1/namespaces"


def _key(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def _slim(obj: Object) -> Object:
    """The object without managedFields, which nobody here reads."""
    obj.get("metadata", {}).pop("managedFields", None)
    return obj


def _namespace_view(obj: Object) -> Object:
    """A namespace's name and labels: all admission reads of it."""
    metadata = obj.get("metadata") or {}
    return {"metadata": {"name": metadata.get("name"), "labels": metadata.get("labels") or {}}}


class Reflector:
    """One resource type, listed then watched into `items` keyed by (namespace, name)."""

    def __init__(
        self,
        kube: KubeReader,
        path: str,
        on_size: Callable[[int], None] | None = None,
        keep: Callable[[Object], Object] = _slim,
    ) -> None:
        """`keep`: what of each object the cache holds (memory grows with the number of objects)."""
        self._kube = kube
        self._path = path
        self._on_size = on_size
        self._keep = keep
        self.items: dict[Key, Object] = {}
        self.synced = False
        self.listed = asyncio.Event()
        """Set once the first list is in `items`."""
        self.live = False
        """Listed, and watching since without a failure: `items` may be trusted."""

    def _changed(self) -> None:
        if self._on_size:
            self._on_size(len(self.items))

    async def _relist(self) -> str:
        listed = await self._kube.list(self._path)
        self.items = {_key(item): self._keep(item) for item in listed.get("items", [])}
        self._changed()
        self.synced = self.live = True
        self.listed.set()
        version: str = listed["metadata"]["resourceVersion"]
        log.info("listed %d objects from %s at resourceVersion %s", len(self.items), self._path, version)
        return version

    async def _watch(self, version: str) -> str:
        async for event in self._kube.watch(self._path, version):
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                code = obj.get("code", 0)
                raise (GoneError if code == 410 else KubeReadError)(code, f"watch {self._path}: {obj.get('message')}")
            version = obj.get("metadata", {}).get("resourceVersion", version)
            if kind in ("ADDED", "MODIFIED"):
                self.items[_key(obj)] = self._keep(obj)
            elif kind == "DELETED":
                self.items.pop(_key(obj), None)
            else:
                continue
            self._changed()
        return version

    async def run(self) -> None:
        """List and watch until cancelled, backing off on errors."""
        version: str | None = None
        delay = 0.5
        while True:
            try:
                if version is None:
                    version = await self._relist()
                version = await self._watch(version)
                delay = 0.5
            except GoneError:
                log.info("watch of %s expired; listing again", self._path)
                version = None
            except KubeReadError as exc:
                self.live, version = False, None
                log.warning("watch of %s failed (%s); listing again in %.1fs", self._path, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


class ClusterCache:
    """AISystems, AIGovExceptions and namespaces by watch; scaled workloads' parents by GET."""

    def __init__(self, kube: KubeReader, lookup_timeout: float = 1.0) -> None:
        self._kube = kube
        self._timeout = lookup_timeout
        self.aisystems = Reflector(kube, AISYSTEMS_PATH, AISYSTEM_CACHE_SIZE.set, keep=policy_view)
        self.namespaces = Reflector(kube, NAMESPACES_PATH, keep=_namespace_view)
        self.exceptions = Reflector(kube, EXCEPTIONS_PATH)

    @property
    def synced(self) -> bool:
        """Every cache has been listed once."""
        return self.aisystems.synced and self.namespaces.synced and self.exceptions.synced

    async def wait_synced(self) -> None:
        """Until every cache has been listed once."""
        for reflector in (self.aisystems, self.namespaces, self.exceptions):
            await reflector.listed.wait()

    async def run(self) -> None:
        """Keep every cache current until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.aisystems.run())
            group.create_task(self.namespaces.run())
            group.create_task(self.exceptions.run())

    def namespace_exceptions(self, namespace: str) -> list[Object]:
        """The AIGovExceptions of `namespace` as watched (the policies decide which are honoured)."""
        return [obj for (ns, _), obj in sorted(self.exceptions.items.items()) if ns == namespace]

    async def aisystem(self, namespace: str, name: str) -> Object | None:
        """The AISystem `namespace/name`: from the cache, else one GET; None when it does not exist."""
        cached = self.aisystems.items.get((namespace, name)) if self.aisystems.live else None
        if cached is not None:
            return cached
        return await self._kube.get(f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}", self._timeout)

    async def namespace(self, name: str) -> dict[str, Any]:
        """`{name, labels}` of a namespace (no labels when it cannot be found)."""
        found = self.namespaces.items.get(("", name)) if self.namespaces.live else None
        if found is None:
            found = await self._kube.get(f"{NAMESPACES_PATH}/{name}", self._timeout) or {}
        return {"name": name, "labels": dict(found.get("metadata", {}).get("labels") or {})}

    async def scale_target(self, request: Mapping[str, Any]) -> Object | None:
        """The workload a `scale` subresource request resizes (e.g. the Deployment), by GET."""
        resource = request["resource"]
        group, version = resource.get("group", ""), resource.get("version", "v1")
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        path = f"{prefix}/namespaces/{request.get('namespace')}/{resource.get('resource')}/{request.get('name')}"
        return await self._kube.get(path, self._timeout)
