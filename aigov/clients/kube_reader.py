"""A small async Kubernetes client for the webhook and the audit: GET, (paginated) LIST and WATCH, as JSON.

kubernetes_asyncio provides the connection (kubeconfig, client certificates,
exec plugins, in-cluster service-account tokens that rotate) and one aiohttp
session; the webhook only reads, so it talks in raw JSON (orjson) rather than
the generated models. Watch lines are split here, without a line-length limit.
The audit also writes its reports (`apply`, `delete`): the only writes here.
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient, Configuration


class KubeReadError(RuntimeError):
    """The API server answered with an error status (or not at all: status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


class GoneError(KubeReadError):
    """The watch's resourceVersion is too old (HTTP 410): list again."""


def _reason(body: bytes) -> str:
    try:
        status = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode(errors="replace")
    return str(status.get("message") or status) if isinstance(status, dict) else str(status)


class KubeReader:
    """Reads from the API server as the webhook's identity."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api

    @classmethod
    async def connect(cls, kubeconfig: Path | None = None) -> KubeReader:
        """Connect with `kubeconfig`, else in-cluster when running in a pod, else $KUBECONFIG or ~/.kube/config."""
        configuration = Configuration()
        if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            kube_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            await kube_config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None, client_configuration=configuration
            )
        return cls(ApiClient(configuration))

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._api.close()

    async def _get(
        self, path: str, query: Sequence[tuple[str, str]], limits: aiohttp.ClientTimeout | None = None
    ) -> Any:
        return await self._call("GET", path, query, limits=limits)

    async def _call(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        *,
        body: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        content_type: str = "application/json",
        limits: aiohttp.ClientTimeout | None = None,
    ) -> Any:
        try:
            return await self._api.call_api(
                path,
                method,
                query_params=list(query),
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=limits,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeReadError(0, f"{method} {path}: {exc!r}") from exc

    async def get(self, path: str, seconds: float = 5.0) -> dict[str, Any] | None:
        """The object at `path`, or None when it does not exist; KubeReadError after `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                response = await self._get(path, [])
                async with response:
                    body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeReadError(0, f"GET {path}: {exc!r}") from exc
        if response.status == 404:
            return None
        if response.status != 200:
            raise KubeReadError(response.status, f"GET {path}: {_reason(body)}")
        document: dict[str, Any] = orjson.loads(body)
        return document

    async def list(self, path: str, seconds: float = 60.0) -> dict[str, Any]:
        """A consistent list (with its resourceVersion) of the collection at `path`."""
        listed = await self.get(path, seconds)
        if listed is None:
            raise KubeReadError(404, f"GET {path}: not found (is the CRD installed?)")
        return listed

    async def pages(
        self, path: str, limit: int = 500, seconds: float = 60.0, selectors: Sequence[tuple[str, str]] = ()
    ) -> AsyncIterator[builtins.list[dict[str, Any]]]:
        """The collection at `path`, `limit` items a page (`limit`/`continue`); KubeReadError(404) when absent.

        Memory stays bounded by one page. A continue token that expired (410) starts the list over,
        as the API server advises, so an item may be seen twice but none is missed.
        """
        token = ""
        while True:
            query = [*selectors, ("limit", str(limit)), *((("continue", token),) if token else ())]
            try:
                async with asyncio.timeout(seconds):
                    response = await self._get(path, query)
                    async with response:
                        body = await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise KubeReadError(0, f"LIST {path}: {exc!r}") from exc
            if response.status == 410 and token:
                token = ""
                continue
            if response.status != 200:
                raise KubeReadError(response.status, f"LIST {path}: {_reason(body)}")
            listed = orjson.loads(body)
            yield listed.get("items") or []
            token = (listed.get("metadata") or {}).get("continue") or ""
            if not token:
                return

    async def resource_version(self, path: str, seconds: float = 10.0) -> str:
        """The current resourceVersion of the collection at `path` (a one-item list), to watch from."""
        try:
            async with asyncio.timeout(seconds):
                response = await self._get(path, [("limit", "1")])
                async with response:
                    body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeReadError(0, f"LIST {path}: {exc!r}") from exc
        if response.status != 200:
            raise KubeReadError(response.status, f"LIST {path}: {_reason(body)}")
        return str((orjson.loads(body).get("metadata") or {}).get("resourceVersion", ""))

    async def apply(self, path: str, document: Mapping[str, Any], manager: str, seconds: float = 30.0) -> None:
        """Server-side apply `document` at `path` (the object's own path) as field manager `manager`, forcing."""
        query = [("fieldManager", manager), ("force", "true")]
        await self._write(
            "PATCH", path, query, document=document, content_type="application/apply-patch+yaml", seconds=seconds
        )

    async def json_patch(self, path: str, operations: Sequence[Mapping[str, Any]], seconds: float = 30.0) -> None:
        """Apply a JSON patch (RFC 6902; a failed `test` operation is a KubeReadError 422) to the object at `path`."""
        await self._write(
            "PATCH", path, [], document=operations, content_type="application/json-patch+json", seconds=seconds
        )

    async def create(self, path: str, document: Mapping[str, Any], seconds: float = 30.0) -> None:
        """Create `document` in the collection at `path` (KubeReadError 409 when it exists)."""
        await self._write("POST", path, [], document=document, content_type="application/json", seconds=seconds)

    async def delete(self, path: str, seconds: float = 30.0) -> None:
        """Delete the object at `path`; already gone is fine."""
        await self._write("DELETE", path, [], document=None, content_type="application/json", seconds=seconds)

    async def _write(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        *,
        document: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        content_type: str,
        seconds: float,
    ) -> None:
        try:
            async with asyncio.timeout(seconds):
                response = await self._call(method, path, query, body=document, content_type=content_type)
                async with response:
                    body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeReadError(0, f"{method} {path}: {exc!r}") from exc
        if response.status >= 300 and not (method == "DELETE" and response.status == 404):
            raise KubeReadError(response.status, f"{method} {path}: {_reason(body)}")

    async def watch(self, path: str, resource_version: str, seconds: int = 300) -> AsyncIterator[dict[str, Any]]:
        """Watch events on `path` from `resource_version` until the server ends the stream; GoneError on 410."""
        query = [
            ("watch", "1"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(seconds)),
        ]
        response = await self._get(path, query, aiohttp.ClientTimeout(sock_connect=10, sock_read=seconds + 30))
        async with response:
            if response.status != 200:
                body = await response.read()
                error = GoneError if response.status == 410 else KubeReadError
                raise error(response.status, f"WATCH {path}: {_reason(body)}")
            buffer = b""
            try:
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield orjson.loads(line)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise KubeReadError(0, f"WATCH {path}: {exc!r}") from exc
