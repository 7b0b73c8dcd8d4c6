"""A ready webhook replica arms its own webhook configuration, as its least-privilege user, on the real API server."""

from __future__ import annotations

import asyncio
import json

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

    reader = await KubeReader.connect(user.kubeconfig)
    try:
        task = asyncio.create_task(arm_when_ready(reader, NAME, "Fail", readiness, settle=1.0, interval=0.2))
        await asyncio.sleep(2)
        assert not task.done()
        assert set(_policies(kube, NAME).values()) == {"Ignore"}, "not armed before a replica is ready"
        ready.set()
        await asyncio.wait_for(task, 20)
    finally:
        await reader.close()
    assert _policies(kube, NAME) == {
        "workloads.aigov.io": "Fail",
        "strict-workloads.aigov.io": "Fail",
        "aisystems.aigov.io": "Ignore",
    }
    assert set(_policies(kube, f"{NAME}-other").values()) == {"Ignore"}
    kube.kubectl("delete", "validatingwebhookconfiguration", NAME, f"{NAME}-other")
