"""`aigov selftest` (the chart's `helm test`) and the webhook arming its configuration, against the real API server."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from aigov.core.config import Config
from aigov.install.admission import Registration, UrlClient, webhook_configuration
from aigov.install.rbac import webhook_cluster_role
from devkit.devcluster import ControlPlane
from devkit.devstack import AIGOV, WEBHOOK_USER, Webhook, apply, grant_webhook, start_webhook, user_binding

pytestmark = pytest.mark.cluster


def _selftest(kube: ControlPlane, namespace: str) -> subprocess.CompletedProcess[str]:
    argv = [str(AIGOV), "selftest", "-n", namespace, "--kubeconfig", str(kube.kubeconfig)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_selftest_passes_where_aigov_enforces(kube: ControlPlane, namespace: str, aigov_cluster: Webhook) -> None:
    result = _selftest(kube, namespace)
    assert result.returncode == 0, result.stderr
    assert "an ungoverned AI Deployment is denied (AIGOV_UNGOVERNED)" in result.stdout
    assert kube.kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout.strip() == ""


def test_selftest_fails_clearly_where_enforcement_is_off(
    kube: ControlPlane, namespace: str, aigov_cluster: Webhook
) -> None:
    kube.kubectl("label", "namespace", namespace, "aigov.io/enforcement=off")
    result = _selftest(kube, namespace)
    assert result.returncode == 1
    assert "FAIL: an ungoverned AI Deployment (vllm/vllm-openai:v0.8.5, no aigov.io/system label) was admitted" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_started_webhook_arms_its_configuration_once_ready(kube: ControlPlane, tmp_path: Path) -> None:
    """The chart's flow: the configuration installed failing open, the webhook process arming it once ready."""
    name = "aigov-armed"
    vwc = webhook_configuration(
        Registration(UrlClient("https://127.0.0.1:9", b"ca"), failure_policy="Ignore"), Config()
    )
    for hook in vwc["webhooks"]:  # selects no namespace: harmless to the other tests
        hook["namespaceSelector"] = {"matchLabels": {"aigov-armed-test": "none"}}
    role = webhook_cluster_role(f"{WEBHOOK_USER}-armed", configuration=name)
    apply(kube, vwc | {"metadata": {"name": name}}, role, user_binding(f"{WEBHOOK_USER}-armed", WEBHOOK_USER))
    grant_webhook(kube)
    webhook = start_webhook(kube, tmp_path, "--arm-webhook-configuration", name)
    try:
        deadline = time.monotonic() + 60
        while _policies(kube, name)["workloads.aigov.io"] != "Fail":
            assert time.monotonic() < deadline, f"not armed:\n{webhook.server.log_tail()}"
            time.sleep(1)
    finally:
        webhook.stop()
    assert _policies(kube, name) == {
        "workloads.aigov.io": "Fail",
        "strict-workloads.aigov.io": "Fail",
        "aisystems.aigov.io": "Ignore",
    }
    kube.kubectl("delete", "validatingwebhookconfiguration", name)


def _policies(kube: ControlPlane, name: str) -> dict[str, str]:
    vwc = json.loads(kube.kubectl("get", "validatingwebhookconfiguration", name, "-o", "json").stdout)
    return {hook["name"]: hook["failurePolicy"] for hook in vwc["webhooks"]}
