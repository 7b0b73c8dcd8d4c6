"""The operator's plain-HTTP port: `GET /metrics`, and `POST /alertmanager` when a token is configured.

`/alertmanager` is a second path to suspension for SRE teams: an Alertmanager
webhook receiver (payload version 4, `Authorization: Bearer <token>`, 401
otherwise) that suspends each AISystem a firing alert names by its `namespace`
and `aisystem` labels, under the same rules as a drift check
(`aigov.core.suspension.request`: not twice, not again after a person's resume that
came later than the alert). It only writes the suspension record; the
suspension handlers stop the workloads. It answers 200 with what it did per
system, 400 for a payload it cannot read, and 503 when the API server failed,
so Alertmanager retries.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Any

import kopf
import kubernetes
import urllib3
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from aigov.core import suspension
from aigov.core.alertmanager import REASON, PayloadError, Target, refusal, targets
from aigov.core.model import AISystem
from aigov.operator.context import REGISTRY, OperatorContext, context
from aigov.operator.monitoring import OPERATOR, Monitoring, monitoring
from aigov.telemetry.metrics import OPERATOR_REGISTRY

log = logging.getLogger(__name__)

_ATTEMPTS = 3
_CONTEXT = web.AppKey("context", OperatorContext)
_MONITORING = web.AppKey("monitoring", Monitoring)
_TOKEN = web.AppKey("token", str)
_RUNNER = "endpoints-runner"


@kopf.on.startup(registry=REGISTRY)
async def serve(memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Start the HTTP server when a metrics port is configured."""
    mon = monitoring(memo)
    options = mon.options
    if options.metrics_port is None:
        return
    app = web.Application()
    app[_CONTEXT], app[_MONITORING] = context(memo), mon
    app.router.add_get("/metrics", _metrics)
    token = options.alertmanager_token()
    if token is not None:
        app[_TOKEN] = token
        app.router.add_post("/alertmanager", _alertmanager)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, options.metrics_host, options.metrics_port).start()
    memo[_RUNNER] = runner
    receiver = " and POST /alertmanager" if token else ""
    logger.info(f"serving GET /metrics{receiver} on {options.metrics_host}:{options.metrics_port}")


@kopf.on.cleanup(registry=REGISTRY)
async def stop_serving(memo: Any, **_: Any) -> None:
    """Stop the HTTP server."""
    runner = memo.get(_RUNNER)
    if runner is not None:
        await runner.cleanup()


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(OPERATOR_REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _authorised(request: web.Request) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), request.app[_TOKEN].encode())


async def _alertmanager(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response(
            {"error": "a bearer token is required"}, status=401, headers={"WWW-Authenticate": 'Bearer realm="aigov"'}
        )
    try:
        found = targets(await request.json())
    except (ValueError, PayloadError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    served = request.app[_CONTEXT].namespaces
    results = []
    try:
        for target in found:
            outcome = await _suspend(request.app, target) if not served or target.namespace in served else "not served"
            results.append({"namespace": target.namespace, "aisystem": target.aisystem, "result": outcome})
    except (kubernetes.client.ApiException, urllib3.exceptions.HTTPError) as exc:
        return web.json_response({"error": f"the API server failed: {exc}", "results": results}, status=503)
    return web.json_response({"results": results})


async def _suspend(app: web.Application, target: Target) -> str:
    """Suspend one system unless the rules decline; what happened, in a few words."""
    kube, cluster = app[_CONTEXT].kube, app[_MONITORING].cluster
    refused = refusal(target, datetime.now(UTC))
    if refused:
        log.warning("alert %s for AISystem %s/%s: %s", target.alertname, target.namespace, target.aisystem, refused)
        return refused
    for _ in range(_ATTEMPTS):
        body = await cluster.system(target.namespace, target.aisystem)
        if body is None:
            return "not found"
        try:
            system = AISystem.model_validate(body)
        except ValidationError:
            return "not a valid AISystem"
        patch = suspension.request(
            system.status,
            now=datetime.now(UTC),
            reason=REASON,
            by=OPERATOR,
            check=target.alertname,
            cause_since=target.starts_at,
        )
        if patch is None:
            return "unchanged: already suspended, or resumed after the alert began"
        version = system.metadata.resource_version or ""
        if await kube.patch_status(target.namespace, target.aisystem, version, patch):
            return "suspended"
    return "unchanged: the object kept changing; Alertmanager will send the alert again"
