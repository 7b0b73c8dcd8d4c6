"""AIGovExceptions: the state shown in `status.state`, Events on grant and expiry, the exception gauges,
and a Nonconformity opened for every break-glass exception naming a system.

The state is computed from the records and the time (`aigov.core.exceptions.state`) at every
watch event and once more when the effective expiry passes (a task per exception, so the
operator needs no finalizer or metadata write on exceptions); the stored `status.state` is for
display only (policies never read it). A state change is announced once per operator process:
the first sighting after a start only records what it finds. The Nonconformity
(`aigov.core.nonconformity.for_exception`) is named by the exception, so opening it again after a
restart is a no-op (409); one per exception is created by this process at most once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import kopf
import kubernetes
from pydantic import ValidationError

from aigov.core import exceptions
from aigov.core.config import EXCEPTION_PLURAL, GROUP, PLURAL, VERSION
from aigov.core.nonconformity import NC_PLURAL, for_exception
from aigov.operator.context import REGISTRY, context
from aigov.telemetry.metrics import EXCEPTIONS

_EXPIRY_TASKS: dict[tuple[str, str], asyncio.Task[None]] = {}
_STATE = "exception-state"
"""Per-object memo key: the state last seen."""
_OPENED = "exception-nonconformity"
"""Per-object memo key: the Nonconformity of this break-glass exception is open."""


async def _open_nonconformity(exc: exceptions.AIGovException, body: kopf.Body, memo: Any, logger: Any) -> None:
    """Open the Nonconformity a break-glass exception calls for (clause 10.2), once; an API error is retried
    at the exception's next event."""
    namespace, name, system = body.metadata.namespace or "", body.metadata.name or "", exc.spec.system
    if not exc.spec.break_glass or not system or memo.get(_OPENED):
        return
    ctx = context(memo)
    try:
        record = await ctx.kube.get(PLURAL, namespace, system)
        tier = ((record or {}).get("spec") or {}).get("riskTier")
        manifest = for_exception(
            namespace, system, name, now=datetime.now(UTC).replace(microsecond=0), by=exc.spec.requested_by,
            reason=exc.spec.justification, tier=tier,
        )  # fmt: skip
        if await ctx.kube.create(NC_PLURAL, namespace, manifest):
            logger.info(f"nonconformity {manifest['metadata']['name']} opened: {manifest['spec']['summary']}")
    except kubernetes.client.ApiException as error:
        logger.warning(f"nonconformity for break-glass exception {name} not opened yet: {error.reason}")
        return
    memo[_OPENED] = True


async def _sync(body: kopf.Body, memo: Any, logger: Any, *, announce: bool = True) -> exceptions.AIGovException | None:
    try:
        exc = exceptions.parse(dict(body))
    except ValidationError:
        logger.warning("AIGovException %s/%s does not parse; ignored", body.metadata.namespace, body.metadata.name)
        return None
    ctx = context(memo)
    EXCEPTIONS.policy = ctx.config.exceptions
    EXCEPTIONS.set(exc)
    current = exceptions.state(exc, ctx.config.exceptions, datetime.now(UTC))
    previous = memo.get(_STATE)
    memo[_STATE] = current
    if announce:
        event = exceptions.announcement(exc, previous, current)
        if event is not None:
            kopf.event(body, type=event.type.value, reason=event.reason, message=event.message)
    await _open_nonconformity(exc, body, memo, logger)
    if exc.status.state != current:
        version = exc.metadata.resource_version or ""
        namespace, name = body.metadata.namespace or "", body.metadata.name or ""
        await ctx.kube.patch_status(namespace, name, version, {"state": current.value}, plural=EXCEPTION_PLURAL)
    return exc


async def _at_expiry(delay: float, body: kopf.Body, memo: Any, logger: Any) -> None:
    await asyncio.sleep(delay)
    await _sync(body, memo, logger)


def _schedule(
    key: tuple[str, str], exc: exceptions.AIGovException | None, body: kopf.Body, memo: Any, logger: Any
) -> None:
    """Re-evaluate just after the effective expiry (replacing any earlier schedule)."""
    old = _EXPIRY_TASKS.pop(key, None)
    if old is not None:
        old.cancel()
    expiry = exceptions.effective_expiry(exc, context(memo).config.exceptions) if exc else None
    delay = (expiry - datetime.now(UTC)).total_seconds() if expiry else -1
    if delay >= 0:
        _EXPIRY_TASKS[key] = asyncio.create_task(_at_expiry(delay + 0.5, body, memo, logger))


@kopf.on.event(GROUP, VERSION, EXCEPTION_PLURAL, id="exception-state", registry=REGISTRY)
async def on_event(type: str | None, body: kopf.Body, memo: Any, logger: Any, **_: Any) -> None:
    """Every change: recompute, announce, refresh the gauges."""
    key = (body.metadata.namespace or "", body.metadata.name or "")
    if type == "DELETED":
        EXCEPTIONS.forget(*key)
        _schedule(key, None, body, memo, logger)
        return
    # The initial listing (type None) is seen as it is, nothing announced; changes after it are.
    _schedule(key, await _sync(body, memo, logger, announce=type is not None), body, memo, logger)
