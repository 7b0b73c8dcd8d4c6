"""A small async Kubernetes reader for the webhook: GET, LIST and WATCH, as JSON.

kubernetes_asyncio provides the connection (kubeconfig, client certificates,
exec plugins, in-cluster service-account tokens that rotate) and one aiohttp
session; the webhook only reads, so it talks in raw JSON (orjson) rather than
the generated models. Watch lines are split here, without a line-length limit.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
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

    async def _get(self, path: str, query: list[tuple[str, str]], limits: aiohttp.ClientTimeout | None = None) -> Any:
        try:
            return await self._api.call_api(
                path,
                "GET",
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=limits,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeReadError(0, f"GET {path}: {exc!r}") from exc

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
