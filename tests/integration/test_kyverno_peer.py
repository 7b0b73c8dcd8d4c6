"""Kyverno as a benchmark peer: its ValidatingPolicies refuse the ungoverned Deployment, admit the others.

Kyverno v1.19's admission controller (built by hack/peers: `make peers`) runs out of
cluster against its own control plane (it registers webhooks for its own kinds, which the
session's must not get), with the VAPs' CEL as ValidatingPolicies (devkit.peers.kyverno)
and aigov's namespace selector: namespaces labelled enforcement=off are left alone. The
`peers` marker keeps that test out of `make test`; `make bench` runs it first, and a missing
binary fails it with the command that builds it. The policies' shape is checked in `make test`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aigov.core.config import ENFORCEMENT_LABEL, Config, EnforcementMode
from devkit.devcluster import ControlPlane
from devkit.loadgen import Admin, deployment
from devkit.peers.kyverno import DENIED, KYVERNO_WEBHOOK, start_kyverno, validating_policies

MESSAGE = "AIGOV_UNGOVERNED: deployments/model-server is an AI workload without an aigov.io/system label"


def create(admin: Admin, namespace: str, case: str) -> tuple[int, str]:
    """A dry-run CREATE of the `case` Deployment: (HTTP status, message)."""
    response = admin.client.post(
        f"/apis/apps/v1/namespaces/{namespace}/deployments", json=deployment(case), params={"dryRun": "All"}
    )
    return response.status_code, response.json().get("message", "")


def test_the_validating_policies_are_the_vaps_cel() -> None:
    policies = validating_policies(Config())
    assert policies and all(p["apiVersion"] == "policies.kyverno.io/v1" for p in policies)
    assert all(p["spec"]["validationActions"] == ["Deny"] for p in policies)
    assert {v["name"] for v in policies[0]["spec"]["variables"]} >= {"ai", "labelled", "strict", "declared"}


@pytest.mark.cluster
@pytest.mark.peers
def test_kyverno_denies_the_ungoverned_deployment_and_admits_the_others(tmp_path: Path) -> None:
    with ControlPlane(tmp_path / "controlplane") as cluster:
        admin = Admin(cluster)
        admin.namespace("team")
        admin.namespace("off", {ENFORCEMENT_LABEL: EnforcementMode.OFF.value})
        kyverno = start_kyverno(cluster, tmp_path / "kyverno", Config())
        try:
            deadline = time.monotonic() + 60  # the registration takes a moment to reach the API server
            while (found := create(admin, "team", "denied"))[0] == 201 and time.monotonic() < deadline:
                time.sleep(0.5)
            status, message = found
            assert status == DENIED, (found, kyverno.server.log_tail())
            assert message.startswith(f'admission webhook "{KYVERNO_WEBHOOK}" denied the request: '), message
            assert MESSAGE in message, message
            assert create(admin, "team", "allowed")[0] == 201
            assert create(admin, "team", "governed")[0] == 201
            assert create(admin, "off", "denied")[0] == 201
        finally:
            kyverno.stop()
