"""A ready webhook replica arms its own webhook configuration, as its least-privilege user, on the real API server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest

from aigov.clients.kube_reader import KubeReader
from aigov.core.config import Config
from aigov.install.admission import Registration, UrlClient, webhook_configuration
from aigov.install.rbac import webhook_cluster_role
from aigov.webhook.arming import arm_when_ready
from devkit.devcluster import ControlPlane
from devkit.devstack import apply, user_binding

pytestmark = pytest.mark.cluster

NAME = "aigov-arming-test"
USER = "aigov-arming-webhook"


def _policies(kube: ControlPlane, name: str) -> dict[str, str]:
    vwc = json.loads(kube.kubectl("get", "validatingwebhookconfiguration", name, "-o", "json").stdout)
    return {hook["name"]: hook["failurePolicy"] for hook in vwc["webhooks"]}


async def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, "not armed in time"
        await asyncio.sleep(0.3)


async def test_a_ready_replica_arms_only_its_own_configuration(aigov_crds: ControlPlane) -> None:
    kube = aigov_crds
    vwc = webhook_configuration(
        Registration(UrlClient("https://127.0.0.1:9", b"ca"), failure_policy="Ignore"), Config()
    )
    for hook in vwc["webhooks"]:  # selects no namespace: harmless to the other tests
        hook["namespaceSelector"] = {"matchLabels": {"aigov-arming-test": "none"}}
    other = json.loads(json.dumps(vwc)) | {"metadata": {"name": f"{NAME}-other"}}
    apply(kube, vwc | {"metadata": {"name": NAME}}, other)
    role = webhook_cluster_role(USER, configuration=NAME)
    apply(kube, role, user_binding(USER, USER))
    user = kube.user(USER)
    can = kube.kubectl(
        "auth", "can-i", "patch", f"validatingwebhookconfigurations/{NAME}-other", "--as", USER, check=False
    )
    assert can.stdout.strip() == "no"

    ready = asyncio.Event()

    async def readiness() -> bool:
        return ready.is_set()

    armed = {"workloads.aigov.io": "Fail", "strict-workloads.aigov.io": "Fail", "aisystems.aigov.io": "Ignore"}
    reader = await KubeReader.connect(user.kubeconfig)
    task = asyncio.create_task(arm_when_ready(reader, NAME, "Fail", readiness, settle=1.0, interval=0.2, recheck=1.0))
    try:
        await asyncio.sleep(2)
        assert set(_policies(kube, NAME).values()) == {"Ignore"}, "not armed before a replica is ready"
        ready.set()
        await _until(lambda: _policies(kube, NAME) == armed)
        # `helm upgrade` renders Ignore again: the ready replica arms it again
        reset = [{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}]
        kube.kubectl("patch", "validatingwebhookconfiguration", NAME, "--type=json", "-p", json.dumps(reset))
        await _until(lambda: _policies(kube, NAME) == armed)
    finally:
        task.cancel()
        await reader.close()
    assert set(_policies(kube, f"{NAME}-other").values()) == {"Ignore"}
    kube.kubectl("delete", "validatingwebhookconfiguration", NAME, f"{NAME}-other")
