"""The operator's credentials and its own API writes, through the official Kubernetes client.

One `Configuration` (from `--kubeconfig`, else in-cluster, else the default
kubeconfig) serves both kopf (as its login) and `StatusWriter`, which does the writes
kopf cannot express: status patches with a `resourceVersion` precondition, so an
evaluation of a stale object never overwrites a newer one, and creating the
peering object that kopf only touches. The client is synchronous; calls run in
worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import kopf
import kubernetes

from aigov.core.config import GROUP, PLURAL, VERSION

PEERING_GROUP = "kopf.dev"
PEERING_VERSION = "v1"
PAGE = 500
"""Objects per page when listing."""
_MERGE_PATCH = "application/merge-patch+json"


def load_configuration(kubeconfig: Path | None) -> kubernetes.client.Configuration:
    """Credentials from `kubeconfig`, else the in-cluster service account, else `$KUBECONFIG`/`~/.kube/config`."""
    configuration = kubernetes.client.Configuration()
    if kubeconfig is not None:
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig), client_configuration=configuration
        )
        return configuration
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return configuration


def connection_info(configuration: kubernetes.client.Configuration) -> kopf.ConnectionInfo:
    """kopf's view of the same credentials (read on every login, so rotated tokens are picked up)."""
    header: str | None = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    scheme, _, token = (header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        scheme=scheme or None,
        token=token or None,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )


class StatusWriter:
    """The few API writes the operator makes itself."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self.configuration = configuration
        self._client = kubernetes.client.ApiClient(configuration)
        self._custom = kubernetes.client.CustomObjectsApi(self._client)

    async def patch_status(
        self, namespace: str, name: str, resource_version: str, status: dict[str, Any], plural: str = PLURAL
    ) -> bool:
        """Merge `status` into the AISystem's (or `plural`'s) status if it is still at `resource_version`.

        False when the object changed or vanished meanwhile (its next event brings a fresh evaluation).
        """
        body = {"metadata": {"resourceVersion": resource_version}, "status": status}
        try:
            await asyncio.to_thread(
                self._custom.patch_namespaced_custom_object_status,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
                body,
                _content_type=_MERGE_PATCH,
            )
        except kubernetes.client.ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """An aigov object as stored, or None when there is none (404)."""
        try:
            found = await asyncio.to_thread(
                self._custom.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
            )
        except kubernetes.client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    async def create(self, plural: str, namespace: str, body: dict[str, Any]) -> bool:
        """Create an aigov object in `namespace`; False when one of that name exists already (409)."""
        try:
            await asyncio.to_thread(
                self._custom.create_namespaced_custom_object, GROUP, VERSION, namespace, plural, body
            )
        except kubernetes.client.ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    async def merge_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge `status` into an aigov object's status (fields only the operator writes)."""
        await asyncio.to_thread(
            self._custom.patch_namespaced_custom_object_status,
            GROUP,
            VERSION,
            namespace,
            plural,
            name,
            {"status": status},
            _content_type=_MERGE_PATCH,
        )

    async def get_cluster(self, plural: str, name: str) -> dict[str, Any] | None:
        """A cluster-scoped aigov object, or None when there is none of that name."""
        try:
            found = await asyncio.to_thread(self._custom.get_cluster_custom_object, GROUP, VERSION, plural, name)
        except kubernetes.client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return cast(dict[str, Any], found)

    async def list_cluster(self, plural: str) -> list[dict[str, Any]]:
        """Every cluster-scoped aigov object of `plural`."""
        found = cast(
            dict[str, Any], await asyncio.to_thread(self._custom.list_cluster_custom_object, GROUP, VERSION, plural)
        )
        return list(found.get("items") or [])

    async def list_uids(self, plural: str, namespaces: tuple[str, ...]) -> set[str]:
        """The uids of the aigov objects of `plural` in `namespaces` (every namespace when empty)."""
        pages = self.pages(GROUP, VERSION, plural, namespaces)
        return {item["metadata"]["uid"] async for page in pages for item in page}

    async def preferred_versions(self) -> dict[str, str]:
        """The preferred version of every API group the server serves ("v1" for the core group "")."""
        groups = await asyncio.to_thread(self._get, "/apis", {})
        return {"": "v1"} | {g["name"]: g["preferredVersion"]["version"] for g in groups.get("groups") or []}

    async def resources(self, group: str, version: str) -> set[str]:
        """The resources (plurals, subresources included) the server serves in `group`/`version`."""
        found = await asyncio.to_thread(self._get, _base(group, version), {})
        return {str(r["name"]) for r in found.get("resources") or []}

    async def pages(
        self, group: str, version: str, plural: str, namespaces: tuple[str, ...]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every object of a namespaced resource in `namespaces` (every namespace when empty), a page at a time."""
        base = _base(group, version)
        for path in [f"{base}/namespaces/{ns}/{plural}" for ns in namespaces] if namespaces else [f"{base}/{plural}"]:
            token = ""
            while True:
                query = {"limit": str(PAGE)} | ({"continue": token} if token else {})
                page = await asyncio.to_thread(self._get, path, query)
                yield list(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue") or ""
                if not token:
                    break

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        request = self._client.param_serialize(
            "GET",
            path,
            query_params=list(query.items()),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self._client.call_api(*request)
        response.read()  # type: ignore[no-untyped-call]
        return cast(dict[str, Any], self._client.response_deserialize(response, {"200": "object"}).data)

    async def create_cluster(self, plural: str, body: dict[str, Any]) -> None:
        """Create a cluster-scoped aigov object."""
        await asyncio.to_thread(self._custom.create_cluster_custom_object, GROUP, VERSION, plural, body)

    async def patch_cluster(self, plural: str, name: str, patch: dict[str, Any]) -> None:
        """Merge-patch a cluster-scoped aigov object (pin `metadata.resourceVersion` in `patch` to fail on races)."""
        await asyncio.to_thread(
            self._custom.patch_cluster_custom_object, GROUP, VERSION, plural, name, patch, _content_type=_MERGE_PATCH
        )

    async def ensure_peering(self, name: str, namespace: str | None) -> bool:
        """Create the kopf peering object (cluster-wide, or in `namespace`) unless it exists; True if created.

        kopf only patches it; without it every replica believes it is alone and acts.
        """
        kind = "KopfPeering" if namespace else "ClusterKopfPeering"
        body = {"apiVersion": f"{PEERING_GROUP}/{PEERING_VERSION}", "kind": kind, "metadata": {"name": name}}
        try:
            if namespace:
                await asyncio.to_thread(
                    self._custom.create_namespaced_custom_object,
                    PEERING_GROUP,
                    PEERING_VERSION,
                    namespace,
                    "kopfpeerings",
                    body,
                )
            else:
                await asyncio.to_thread(
                    self._custom.create_cluster_custom_object,
                    PEERING_GROUP,
                    PEERING_VERSION,
                    "clusterkopfpeerings",
                    body,
                )
        except kubernetes.client.ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def close(self) -> None:
        """Release the client's connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]


def _base(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"
