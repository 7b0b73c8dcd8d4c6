"""`aigov audit-server`: audit rounds every period and soon after an AISystem or a namespace changes.

One process (the chart runs one replica, so no two write the same reports):
watches on AISystems and namespaces set a flag; a round starts when the
period has passed or the flag is set and `min_gap` has passed since the last
round began. Metrics of the last complete round are served on `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import start_http_server

from aigov.audit.decide import Decider, policy_session
from aigov.audit.scan import Options, Round
from aigov.clients.kube_reader import KubeReader, KubeReadError
from aigov.core.config import GROUP, PLURAL, VERSION, Config, EnforcementMode
from aigov.telemetry.metrics import AUDIT, AUDIT_REGISTRY

log = logging.getLogger(__name__)

WATCHED = ("/api/v1/namespaces", f"/apis/{GROUP}/{VERSION}/{PLURAL}")


@dataclass(frozen=True)
class Settings:
    """What `aigov audit-server` is started with."""

    config: Config
    options: Options = field(default_factory=Options)
    interval: float = 300.0
    min_gap: float = 10.0
    host: str = "0.0.0.0"
    metrics_port: int = 9090
    opa_url: str = "http://127.0.0.1:8181"
    opa_timeout: float = 5.0
    kubeconfig: Path | None = None
    policy_dir: Path | None = None


async def run_once(kube: KubeReader, decider: Decider, config: Config, options: Options) -> Round:
    """One round, its metrics published; the finished round (for `aigov audit run`)."""
    audit = Round(kube, decider, config, options)
    found = await audit.run()
    AUDIT.set(found)
    log.info(
        "audit round: %d workloads, %d violations, %d unreviewed kinds, %.1f s",
        found.workloads,
        sum(found.violations.values()),
        len(found.unreviewed),
        found.duration,
    )
    return audit


def log_mode_changes(before: dict[str, str] | None, after: dict[str, str]) -> None:
    """Log every namespace whose enforcement mode differs from the previous round's (a warning when relaxed)."""
    if before is None:
        return
    for name, mode in sorted(after.items()):
        if before.get(name) != mode:
            level = logging.INFO if mode == EnforcementMode.ENFORCE else logging.WARNING
            log.log(level, "namespace %s: enforcement %s -> %s", name, before.get(name, "(new namespace)"), mode)


async def _follow(kube: KubeReader, path: str, changed: asyncio.Event) -> None:
    """Set `changed` on every change to the collection at `path`, until cancelled."""
    while True:
        try:
            version = await kube.resource_version(path)
            async for event in kube.watch(path, version):
                if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                    changed.set()
        except KubeReadError as exc:
            log.warning("watch of %s ended: %s", path, exc)
            await asyncio.sleep(5)


async def serve(settings: Settings) -> None:
    """Audit until SIGINT or SIGTERM."""
    metrics_server, _ = start_http_server(settings.metrics_port, addr=settings.host, registry=AUDIT_REGISTRY)
    kube = await KubeReader.connect(settings.kubeconfig)
    changed = asyncio.Event()
    watches = [asyncio.create_task(_follow(kube, path, changed), name=path) for path in WATCHED]
    loop = asyncio.get_running_loop()
    try:
        async with policy_session(
            settings.opa_url, settings.opa_timeout, settings.policy_dir, settings.config
        ) as decider:
            modes: dict[str, str] | None = None
            while True:
                started = loop.time()
                changed.clear()
                try:
                    audit = await run_once(kube, decider, settings.config, settings.options)
                    log_mode_changes(modes, audit.modes)
                    modes = audit.modes
                except KubeReadError as exc:
                    log.warning("audit round failed, next one in %.0f s: %s", settings.min_gap, exc)
                await asyncio.sleep(max(0.0, started + settings.min_gap - loop.time()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), max(0.0, started + settings.interval - loop.time()))
    finally:
        for task in watches:
            task.cancel()
        for task in watches:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await kube.close()
        metrics_server.shutdown()
