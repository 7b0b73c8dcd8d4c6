"""Arm the webhook configuration once this replica is ready: the chart installs it failing open.

A fail-closed hook registered before any replica answers refuses the workloads it
is sent during an install. The chart therefore renders the workloads' entries with
`failurePolicy: Ignore`, and each replica, once ready (OPA holds its bundle, caches
synced) for `settle` seconds, so that the Service has it among its endpoints,
patches them to the configured policy (`Fail` by default), and checks again every
`recheck` seconds while ready: `helm upgrade` puts the rendered `Ignore` back (its
three-way merge resets fields the chart renders). Its RBAC allows `get` and
`patch` of that one configuration (`resourceNames`); GitOps tools ignore the
field (docs/install.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aigov.clients.kube_reader import KubeReader, KubeReadError
from aigov.install.admission import STRICT_WORKLOADS_WEBHOOK, WORKLOADS_WEBHOOK

log = logging.getLogger(__name__)

ARMED_WEBHOOKS = (WORKLOADS_WEBHOOK, STRICT_WORKLOADS_WEBHOOK)
"""The entries the chart installs failing open."""


def configuration_path(name: str) -> str:
    """The API path of the ValidatingWebhookConfiguration `name`."""
    return f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}"


def arm_patch(configuration: dict[str, Any], failure_policy: str) -> list[dict[str, Any]]:
    """JSON-patch operations setting `failure_policy` on the workloads' entries, each guarded by a name `test`."""
    operations: list[dict[str, Any]] = []
    for index, hook in enumerate(configuration.get("webhooks") or []):
        if hook.get("name") in ARMED_WEBHOOKS and hook.get("failurePolicy") != failure_policy:
            operations += [
                {"op": "test", "path": f"/webhooks/{index}/name", "value": hook["name"]},
                {"op": "replace", "path": f"/webhooks/{index}/failurePolicy", "value": failure_policy},
            ]
    return operations


async def arm_when_ready(
    kube: KubeReader,
    name: str,
    failure_policy: str,
    ready: Callable[[], Awaitable[bool]],
    *,
    settle: float = 10.0,
    interval: float = 2.0,
    recheck: float = 30.0,
) -> None:
    """While `ready` has held for `settle` seconds, keep the workloads' entries of `name` at `failure_policy`.

    Runs until cancelled; errors are logged, never raised: a missing configuration or a refused patch leaves
    the hook as installed, failing open, and the webhook serving.
    """
    since: float | None = None
    while True:
        pause = interval
        if not await ready():
            since = None
        elif since is None:
            since = time.monotonic()
        elif time.monotonic() - since >= settle and await _armed(kube, name, failure_policy):
            pause = recheck
        await asyncio.sleep(pause)


async def _armed(kube: KubeReader, name: str, failure_policy: str) -> bool:
    path = configuration_path(name)
    try:
        configuration = await kube.get(path)
        if configuration is None:
            log.warning("cannot arm webhook configuration %s: it does not exist", name)
            return False
        operations = arm_patch(configuration, failure_policy)
        if operations:
            await kube.json_patch(path, operations)
            log.info("armed webhook configuration %s: workloads' failurePolicy %s", name, failure_policy)
    except KubeReadError as exc:
        log.warning("cannot arm webhook configuration %s yet: %s", name, exc)
        return False
    return True
