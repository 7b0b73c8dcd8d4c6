"""Manifests and record writes for the end-to-end tests."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aigov.core.model import rfc3339
from devkit.devcluster import ControlPlane, User

VLLM = "vllm/vllm-openai:v0.8.5"
VLLM_PINNED = "vllm/vllm-openai@sha256:" + "4c" * 32
NGINX = "nginx:1.27"
SYSTEM_LABEL = "aigov.io/system"
OWNER_EMAIL = "owner@example.com"
OPERATOR = "system:serviceaccount:aigov-system:aigov-operator"
# How long the webhook's watch may take to see a record just written.
SETTLE_SECONDS = 0.5


def _labels(system: str | None) -> dict[str, str]:
    return {"app": "model", **({SYSTEM_LABEL: system} if system else {})}


def _pod_template(image: str, system: str | None) -> dict[str, Any]:
    return {
        "metadata": {"labels": _labels(system)},
        "spec": {"containers": [{"name": "main", "image": image}], "restartPolicy": "Always"},
    }


def workload(kind: str, name: str, image: str = VLLM, system: str | None = None, replicas: int = 1) -> dict[str, Any]:
    """A minimal valid object of `kind` running `image`, labelled with `system` (object and pod template)."""
    meta = {"name": name, "labels": _labels(system)}
    selector = {"matchLabels": {"app": "model"}}
    template = _pod_template(image, system)
    job_template = {**template, "spec": {**template["spec"], "restartPolicy": "Never"}}
    specs: dict[str, tuple[str, dict[str, Any]]] = {
        "Pod": ("v1", template["spec"]),
        "Deployment": ("apps/v1", {"replicas": replicas, "selector": selector, "template": template}),
        "ReplicaSet": ("apps/v1", {"replicas": replicas, "selector": selector, "template": template}),
        "ReplicationController": ("v1", {"replicas": replicas, "selector": {"app": "model"}, "template": template}),
        "StatefulSet": (
            "apps/v1",
            {"replicas": replicas, "serviceName": name, "selector": selector, "template": template},
        ),
        "DaemonSet": ("apps/v1", {"selector": selector, "template": template}),
        "Job": ("batch/v1", {"template": job_template}),
        "CronJob": ("batch/v1", {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": job_template}}}),
        "InferenceService": (
            "serving.kserve.io/v1beta1",
            {"predictor": {"containers": [{"name": "kserve-container", "image": image}]}},
        ),
    }
    api_version, spec = specs[kind]
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec}


def declared_not_ai(kind: str, name: str) -> dict[str, Any]:
    """An object the webhook's pre-filter sends (an engine image) and the policies admit: declared not AI, with a
    reason. Ordinary objects no longer reach the webhook at all."""
    obj = workload(kind, name, image=VLLM)
    obj["metadata"]["labels"]["aigov.io/not-ai"] = "true"
    obj["metadata"]["annotations"] = {"aigov.io/not-ai-reason": "a client of a model served elsewhere"}
    return obj


CLASSIFIED = {"roles": ["deployer"], "rationale": "Annex III(4)(a): used in recruitment"}
"""The EU AI Act classification record every test system carries (the high tier requires it)."""


def aisystem(name: str, tier: str = "minimal", images: tuple[str, ...] = (VLLM,), **spec: Any) -> dict[str, Any]:
    """An AISystem owned by OWNER_EMAIL."""
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": name},
        "spec": {
            "purpose": "answers customer questions",
            "riskTier": tier,
            "owner": {"name": "Model team", "email": OWNER_EMAIL},
            "images": list(images),
            "lifecycle": {"stage": "production"},
            "classification": CLASSIFIED,
            **spec,
        },
    }


def apply(
    kube: ControlPlane, namespace: str, obj: dict[str, Any], user: User | None = None
) -> subprocess.CompletedProcess[str]:
    """`kubectl apply` without raising: the test reads returncode and stderr."""
    return kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(obj), user=user, check=False)


def when(days: float) -> str:
    """RFC 3339 time `days` from now."""
    return rfc3339(datetime.now(UTC) + timedelta(days=days))


def patch_status(
    kube: ControlPlane, namespace: str, name: str, status: dict[str, Any], user: User
) -> subprocess.CompletedProcess[str]:
    """A merge patch of `aisystems/status` as `user`, without raising."""
    return kube.kubectl(
        "patch", "aisystem", name, "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}), user=user, check=False,
    )  # fmt: skip


def assessment(assessor: str, expires_days: float = 364, completed_days: float = -1) -> dict[str, Any]:
    """A completed impact assessment record."""
    return {
        "status": "completed",
        "assessor": assessor,
        "completedAt": when(completed_days),
        "expiresAt": when(expires_days),
        "reference": "https://docs.example.com/assessment.pdf",
        "residualRisk": "low",
    }


def approval(
    approver: str, images: tuple[str, ...] = (VLLM,), role: str | None = None, expires_days: float = 180
) -> dict[str, Any]:
    """An `approved` entry."""
    entry: dict[str, Any] = {
        "approver": approver,
        "decision": "approved",
        "decidedAt": when(min(-1, expires_days - 1)),
        "expiresAt": when(expires_days),
        "images": list(images),
        "justification": "reviewed",
    }
    if role:
        entry["role"] = role
    return entry


def approvals(kube: ControlPlane, namespace: str, name: str, field: str = "approvals") -> list[dict[str, Any]]:
    """The approvals (or another append-only status list) on record."""
    got = json.loads(kube.kubectl("get", "aisystem", name, "-n", namespace, "-o", "json").stdout)
    entries: list[dict[str, Any]] = got.get("status", {}).get(field, [])
    return entries


def append_assessment(
    kube: ControlPlane, namespace: str, name: str, entry: dict[str, Any], user: User
) -> subprocess.CompletedProcess[str]:
    """Append `entry` to the assessments as `user`, naming the system's current tier unless it names one."""
    got = json.loads(kube.kubectl("get", "aisystem", name, "-n", namespace, "-o", "json").stdout)
    entries = got.get("status", {}).get("assessments", [])
    record = {"riskTier": got["spec"]["riskTier"], **entry}
    return patch_status(kube, namespace, name, {"assessments": [*entries, record]}, user)


def append_approval(
    kube: ControlPlane, namespace: str, name: str, entry: dict[str, Any], user: User
) -> subprocess.CompletedProcess[str]:
    """Append `entry` to the approvals as `user` (existing entries resent unchanged)."""
    return patch_status(kube, namespace, name, {"approvals": [*approvals(kube, namespace, name), entry]}, user)


def checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """`result`, asserting it succeeded."""
    assert result.returncode == 0, result.stderr
    return result


def settle() -> None:
    """Give the webhook's watch time to see the records just written."""
    time.sleep(SETTLE_SECONDS)
