"""Opens a Nonconformity on every suspension, records who resumed, and verifies corrective actions.

On every AISystem event: each suspension in `status.suspension` and
`suspensionHistory` has its Nonconformity (created once, named by the suspension's
start, so a restart or a repeated event opens nothing twice) and, once resumed, its
`resumedBy` (the closure policy keeps a high-risk system's resumer from closing it).
The same event carries the drift checks' latest evaluations: every closed
Nonconformity of the system counts them towards its effectiveness check
(`aigov.core.nonconformity.next_effectiveness`). Nonconformities being verified
are indexed by system in the operator's `verifying` index, listed at start-up
and kept current by their watch events (open and closed ones are not kept in
memory); all feed the `aigov_nonconformities*` gauges.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf
import kubernetes

from aigov.core.binding import SystemKey
from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.nonconformity import NC_PLURAL, NCPhase, for_suspension, next_effectiveness, phase
from aigov.operator.context import REGISTRY, OperatorContext, context
from aigov.operator.watch_index import LIST_RETRY_SECONDS, WatchIndex
from aigov.telemetry.metrics import NONCONFORMITIES, NonconformitySample

_DONE = "nonconformities-done"
"""Per-AISystem memo key: the (nonconformity, resumedBy) pairs already written."""


def _verifying(body: dict[str, Any]) -> tuple[SystemKey, dict[str, Any]] | None:
    """A Nonconformity's entry in the index while its corrective action is verified (the only ones read)."""
    system = (body.get("spec") or {}).get("system")
    if not system or phase(body) is not NCPhase.VERIFYING:
        return None
    return (str((body.get("metadata") or {}).get("namespace") or ""), str(system)), body


@kopf.on.startup(registry=REGISTRY, backoff=LIST_RETRY_SECONDS)
async def list_nonconformities(memo: Any, **_: Any) -> None:
    """Index the Nonconformities being verified before kopf starts watching."""
    ctx = context(memo)
    await ctx.verifying.fill(lambda: _listing(ctx), lambda _: None)


@kopf.on.cleanup(registry=REGISTRY)
def stop_nonconformities(memo: Any, **_: Any) -> None:
    """Stop re-listing."""
    context(memo).verifying.stop()


async def _listing(ctx: OperatorContext) -> dict[str, tuple[SystemKey, dict[str, Any]] | None]:
    found: dict[str, tuple[SystemKey, dict[str, Any]] | None] = {}
    async for page in ctx.kube.pages(GROUP, VERSION, NC_PLURAL, ctx.namespaces):
        found |= {item["metadata"]["uid"]: _verifying(item) for item in page}
    return found


@kopf.on.event(GROUP, VERSION, NC_PLURAL, id="nonconformity-gauges", registry=REGISTRY)
def gauges(type: str | None, body: kopf.Body, memo: Any, **_: Any) -> None:
    """Keep the index of Nonconformities being verified and the nonconformity gauges in step."""
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    context(memo).verifying.put(body.metadata.uid or "", None if type == "DELETED" else _verifying(dict(body)))
    if type == "DELETED":
        NONCONFORMITIES.forget(namespace, name)
        return
    spec = body.get("spec") or {}
    try:
        due = datetime.fromisoformat(str(spec.get("dueAt"))).timestamp()
    except ValueError:
        due = float("inf")
    NONCONFORMITIES.set(namespace, name, NonconformitySample(str(spec.get("source")), phase(dict(body)).value, due))


@kopf.on.event(GROUP, VERSION, PLURAL, id="nonconformities", registry=REGISTRY)
async def on_system(type: str | None, body: kopf.Body, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    """Open a nonconformity per suspension, record resumes, count effectiveness evaluations."""
    if type == "DELETED":
        return
    try:
        await _open_and_resume(dict(body), memo, logger)
        await _verify(dict(body), context(memo).verifying, memo, logger)
    except kubernetes.client.ApiException as exc:
        logger.warning(f"nonconformities not written yet (the next event retries): {exc}")


async def _open_and_resume(system: dict[str, Any], memo: Any, logger: kopf.Logger) -> None:
    status = system.get("status") or {}
    records = [*(status.get("suspensionHistory") or []), *([status["suspension"]] if status.get("suspension") else [])]
    done: set[tuple[str, str]] = memo.setdefault(_DONE, set())
    kube, now = context(memo).kube, datetime.now(UTC).replace(microsecond=0)
    namespace = str((system.get("metadata") or {}).get("namespace"))
    operator = context(memo).config.identity.operator_usernames[0]
    for record in records:
        if not record.get("since"):
            continue
        manifest = for_suspension(system, record, now=now, by=operator)
        name, resumed_by = manifest["metadata"]["name"], str(record.get("resumedBy") or "")
        if (name, resumed_by) in done:
            continue
        if (name, "") not in done and await kube.create(NC_PLURAL, namespace, manifest):
            logger.info(f"nonconformity {name} opened: {manifest['spec']['summary']}")
        done.add((name, ""))
        if resumed_by:
            await kube.merge_status(NC_PLURAL, namespace, name, {"resumedBy": resumed_by})
            done.add((name, resumed_by))


async def _verify(system: dict[str, Any], index: WatchIndex[dict[str, Any]], memo: Any, logger: kopf.Logger) -> None:
    meta = system.get("metadata") or {}
    key = (str(meta.get("namespace")), str(meta.get("name")))
    checks = ((system.get("status") or {}).get("monitoring") or {}).get("checks") or []
    now = datetime.now(UTC).replace(microsecond=0)
    for nc in index.get(key):  # only Nonconformities being verified (`_verifying`)
        effectiveness = next_effectiveness(nc, checks, now)
        if effectiveness is None:
            continue
        name = nc["metadata"]["name"]
        await context(memo).kube.merge_status(NC_PLURAL, key[0], name, {"effectiveness": effectiveness})
        if effectiveness["effective"]:
            logger.info(f"nonconformity {name}: corrective action effective")
