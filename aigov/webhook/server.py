"""`aigov webhook`: one async process serving admission over TLS, metrics over plain HTTP.

The TLS pair is read from files and followed: a watcher re-runs
`load_cert_chain` on the live `SSLContext` when either file changes (a rotated
Secret), so new handshakes get the new certificate without a restart; a
half-written pair is skipped until it loads. Alongside the server run the
AISystem and namespace watches. OPA loads the policy bundle from disk itself
(the chart's init container writes it from this image and the ConfigMap); the
webhook only requires, for readiness, that OPA holds the bundle it ships with
its configuration (same sha256), and
exports that bundle as `aigov_policy_bundle_info`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from prometheus_client import start_http_server

from aigov.clients.kube_reader import KubeReader
from aigov.core.config import Config
from aigov.policy.bundle import policy_dir, read_bundle
from aigov.policy.opa import PolicyClient
from aigov.telemetry.metrics import POLICY_BUNDLE_INFO
from aigov.webhook.admission import Admission
from aigov.webhook.app import MAX_BODY_BYTES, create_app
from aigov.webhook.arming import arm_when_ready
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


@dataclass(frozen=True)
class Settings:
    """What `aigov webhook` is started with."""

    cert: Path
    key: Path
    config: Config
    host: str = "0.0.0.0"
    port: int = 8443
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 9090
    opa_url: str = "http://127.0.0.1:8181"
    opa_timeout: float = 1.0
    lookup_timeout: float = 1.0
    kubeconfig: Path | None = None
    policy_dir: Path | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    arm_configuration: str | None = None
    arm_failure_policy: str = "Fail"


async def serve(settings: Settings) -> None:
    """Run the webhook until SIGINT or SIGTERM."""
    tls = ReloadingTLS(settings.cert, settings.key)
    bundle = read_bundle(settings.policy_dir, settings.config)
    POLICY_BUNDLE_INFO.labels(version=bundle.version, sha256=bundle.sha256).set(1)
    log.info("policy bundle %s (sha256 %s) from %s", bundle.version, bundle.sha256, settings.policy_dir or policy_dir())
    metrics_server, _ = start_http_server(settings.metrics_port, addr=settings.metrics_host)
    kube = await KubeReader.connect(settings.kubeconfig)
    try:
        async with PolicyClient(settings.opa_url, settings.opa_timeout, bundle) as policy:
            cache = ClusterCache(kube, settings.lookup_timeout)
            detail = {"policyBundleVersion": bundle.version, "policyBundleSha256": bundle.sha256}

            async def readiness() -> tuple[str | None, dict[str, str]]:
                if not cache.synced:
                    return "the AISystem and namespace caches have not synced yet", detail
                return await policy.unready_reason(), detail

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
                asyncio.create_task(_freeze_when_synced(cache), name="gc-freeze"),
                asyncio.create_task(tls.follow(), name="tls"),
            ]
            if settings.arm_configuration:

                async def ready() -> bool:
                    return (await readiness())[0] is None

                arm = arm_when_ready(kube, settings.arm_configuration, settings.arm_failure_policy, ready)
                background.append(asyncio.create_task(arm, name="arm"))
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


async def _freeze_when_synced(cache: ClusterCache) -> None:
    """Once the caches are listed, move what is alive to the collector's permanent generation.

    A full collection otherwise scans every cached object: ~86 ms with 10,000 AISystems here, a
    pause any request may hit. What the watch replaces later is freed by reference counting.
    """
    await cache.wait_synced()
    gc.collect()
    gc.freeze()
    log.info("caches synced: %d objects moved to the permanent generation", gc.get_freeze_count())
