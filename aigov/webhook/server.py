"""`aigov webhook`: one async process serving admission over TLS, metrics over plain HTTP.

The TLS pair is read from files and followed: a watcher re-runs
`load_cert_chain` on the live `SSLContext` when either file changes (a rotated
Secret), so new handshakes get the new certificate without a restart; a
half-written pair is skipped until it loads. Alongside the server run the
AISystem and namespace watches and a loop that (re)loads the policy bundle into
OPA whenever OPA does not hold it (first start, or an OPA restarted empty).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from prometheus_client import start_http_server

from aigov.clients.kube_reader import KubeReader
from aigov.core.config import Config
from aigov.policy.opa import PolicyClient
from aigov.webhook.admission import Admission
from aigov.webhook.app import MAX_BODY_BYTES, create_app
from aigov.webhook.cache import ClusterCache

log = logging.getLogger(__name__)


def _stamp(*paths: Path) -> tuple[tuple[int, int, int], ...]:
    stats = [path.stat() for path in paths]
    return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in stats)


class ReloadingTLS:
    """A server `SSLContext` whose certificate and key follow two files on disk."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._stamp = _stamp(cert, key)
        self.context.load_cert_chain(cert, key)

    def reload_if_changed(self) -> bool:
        """Load the pair again when a file changed; False when unchanged or not loadable yet."""
        try:
            stamp = _stamp(self.cert, self.key)
            if stamp == self._stamp:
                return False
            self.context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            log.warning("TLS pair %s / %s not loadable yet: %s", self.cert, self.key, exc)
            return False
        self._stamp = stamp
        log.info("loaded the rotated TLS certificate %s", self.cert)
        return True

    async def follow(self, interval: float = 1.0) -> None:
        """Check the files every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.reload_if_changed()


async def keep_policies_loaded(policy: PolicyClient, policy_dir: Path | None, interval: float = 2.0) -> None:
    """Load the bundle into OPA whenever OPA does not answer with it, until cancelled."""
    while True:
        if not await policy.ready():
            try:
                await policy.load_policies(policy_dir)
            except Exception as exc:  # OPA down or refusing: readiness stays false, try again
                log.warning("cannot load the policies into OPA at %s: %s", policy.url, exc)
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class Settings:
    """What `aigov webhook` is started with."""

    cert: Path
    key: Path
    config: Config
    host: str = "0.0.0.0"
    port: int = 8443
    metrics_port: int = 9090
    opa_url: str = "http://127.0.0.1:8181"
    opa_timeout: float = 1.0
    lookup_timeout: float = 1.0
    kubeconfig: Path | None = None
    policy_dir: Path | None = None
    max_body_bytes: int = MAX_BODY_BYTES


async def serve(settings: Settings) -> None:
    """Run the webhook until SIGINT or SIGTERM."""
    tls = ReloadingTLS(settings.cert, settings.key)
    metrics_server, _ = start_http_server(settings.metrics_port, addr=settings.host)
    kube = await KubeReader.connect(settings.kubeconfig)
    try:
        async with PolicyClient(settings.opa_url, settings.opa_timeout) as policy:
            cache = ClusterCache(kube, settings.lookup_timeout)

            async def readiness() -> str | None:
                if not cache.synced:
                    return "the AISystem and namespace caches have not synced yet"
                if not await policy.ready():
                    return f"OPA at {policy.url} does not answer with the aigov policies loaded"
                return None

            app = create_app(
                Admission(cache, policy, settings.config), readiness, max_body_bytes=settings.max_body_bytes
            )
            config = uvicorn.Config(
                app, host=settings.host, port=settings.port, lifespan="off", access_log=False, log_config=None
            )
            config.load()
            config.ssl = tls.context
            background = [
                asyncio.create_task(cache.run(), name="cache"),
                asyncio.create_task(tls.follow(), name="tls"),
                asyncio.create_task(keep_policies_loaded(policy, settings.policy_dir), name="policies"),
            ]
            try:
                await uvicorn.Server(config).serve()
            finally:
                for task in background:
                    task.cancel()
                for task in background:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
    finally:
        await kube.close()
        metrics_server.shutdown()
