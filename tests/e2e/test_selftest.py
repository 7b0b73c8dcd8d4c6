"""`aigov selftest` (the chart's `helm test`) against the real API server with aigov's webhook registered."""

from __future__ import annotations

import subprocess

import pytest

from devkit.devcluster import ControlPlane
from devkit.devstack import AIGOV, Webhook

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
