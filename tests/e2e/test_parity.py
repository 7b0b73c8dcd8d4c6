"""Parity: `aigov check` on manifests gives the decisions the live webhook gives for them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from devkit.devcluster import ControlPlane
from devkit.devstack import AIGOV, Webhook
from tests.e2e.conftest import People
from tests.e2e.objects import (
    NGINX,
    VLLM,
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    assessment,
    checked,
    settle,
    workload,
)

pytestmark = pytest.mark.cluster

MANIFESTS = [
    workload("Deployment", "ungoverned"),
    workload("Deployment", "approved", system="chat"),
    workload("StatefulSet", "other-image", image="vllm/vllm-openai:v0.9.0", system="chat"),
    workload("Job", "unassessed", system="draft"),
    workload("Pod", "unknown", system="nope"),
    workload("CronJob", "web", image=NGINX),
]


def _codes(text: str) -> set[str]:
    return set(re.findall(r"AIGOV_[A-Z_]+", text))


def test_check_and_webhook_agree(
    kube: ControlPlane, people: People, namespace: str, aigov_cluster: Webhook, tmp_path: Path
) -> None:
    checked(apply(kube, namespace, aisystem("chat", images=(VLLM,))))
    checked(append_assessment(kube, namespace, "chat", assessment("alice"), people.alice))
    checked(append_approval(kube, namespace, "chat", approval("bob"), people.bob))
    checked(apply(kube, namespace, aisystem("draft")))
    settle()
    systems = tmp_path / "aisystems.json"
    systems.write_text(kube.kubectl("get", "aisystems", "-n", namespace, "-o", "json").stdout)
    manifests = tmp_path / "workloads.yaml"
    manifests.write_text(yaml.safe_dump_all(MANIFESTS))

    report = subprocess.run(
        [AIGOV, "check", "-o", "json", "-n", namespace, "--aisystems", str(systems),
         "--opa-url", aigov_cluster.opa.url, str(manifests)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode in (0, 1), report.stderr
    offline = {
        entry["name"]: (entry["allowed"], {v["code"] for v in entry["violations"]})
        for entry in json.loads(report.stdout)
    }

    live = {}
    for obj in MANIFESTS:
        result = apply(kube, namespace, obj)
        live[obj["metadata"]["name"]] = (result.returncode == 0, _codes(result.stderr))
    assert live == offline
    assert not live["ungoverned"][0]
    assert live["approved"] == (True, set())
    assert live["web"] == (True, set())
