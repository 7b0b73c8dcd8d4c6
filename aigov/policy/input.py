"""The one builder of the policy input, shared by the webhook and `aigov check`.

Pure: no I/O. `build` wraps an AdmissionReview v1 request, unchanged, with the
AISystem it names, the namespace, the configuration and the time, which is all
`data.aigov.admission.decision` reads (contract: policies/README.md).
`system_ref` says which AISystem a request names, so every caller resolves it
the same way; `admission_request` turns a manifest into the CREATE request the
API server would send.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aigov.core.config import Config

CHECK_USERNAME = "aigov-check"

# kind -> resource (plural) of the workload kinds the policies understand.
WORKLOAD_RESOURCES: Mapping[str, str] = {
    "Pod": "pods",
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "Job": "jobs",
    "CronJob": "cronjobs",
    "InferenceService": "inferenceservices",
}

_OTHER_RESOURCES: Mapping[str, str] = {
    "AISystem": "aisystems",
    "LLMInferenceService": "llminferenceservices",
    "SeldonDeployment": "seldondeployments",
    "RayService": "rayservices",
    "NIMService": "nimservices",
    "Model": "models",
}

# Where a workload's system label may sit, in the order the policies read them.
_LABEL_PATHS: tuple[tuple[str, ...], ...] = (
    ("metadata", "labels"),
    ("spec", "template", "metadata", "labels"),
    ("spec", "jobTemplate", "metadata", "labels"),
    ("spec", "jobTemplate", "spec", "template", "metadata", "labels"),
    ("spec", "predictor", "labels"),
)


@dataclass(frozen=True, slots=True)
class Namespace:
    """The namespace of the object under review (its labels select the enforcement mode)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


def rfc3339(now: datetime) -> str:
    """`now` (timezone-aware) in UTC as RFC 3339, e.g. `2026-01-31T12:00:00.250000Z`."""
    if now.tzinfo is None:
        raise ValueError("the policy time must be timezone-aware")
    return now.astimezone(UTC).isoformat().replace("+00:00", "Z")


def build(
    request: dict[str, Any],
    aisystem: dict[str, Any] | None,
    namespace: Namespace,
    config: Config,
    now: datetime,
) -> dict[str, Any]:
    """The input document of `data.aigov.admission.decision`."""
    return {
        "request": request,
        "aisystem": aisystem,
        "namespace": {"name": namespace.name, "labels": dict(namespace.labels)},
        "config": config.policy_data(),
        "now": rfc3339(now),
    }


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def system_label(obj: Mapping[str, Any] | None, config: Config) -> str | None:
    """The AISystem name `obj` is labelled with: on the object, else on its pod template."""
    for path in _LABEL_PATHS:
        labels = _dig(obj, path)
        value = labels.get(config.system_label) if isinstance(labels, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None


def system_ref(request: Mapping[str, Any], config: Config) -> str | None:
    """The name of the AISystem (in the request's namespace) that `request` names.

    The object's label, or for DELETE the old object's. A `scale` subresource
    request carries a Scale without labels: callers resolve the scaled workload
    and read its label with `system_label`.
    """
    obj = request.get("oldObject") if request.get("operation") == "DELETE" else request.get("object")
    return system_label(obj, config)


def resource_for(kind: str) -> str:
    """The resource (plural) of `kind`: known kinds from a table, else the lower-case plural."""
    return WORKLOAD_RESOURCES.get(kind) or _OTHER_RESOURCES.get(kind) or f"{kind.lower()}s"


def admission_request(obj: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The AdmissionReview v1 CREATE request the API server would send for manifest `obj`."""
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    kind = str(obj.get("kind", ""))
    metadata = dict(obj.get("metadata") or {})
    metadata["namespace"] = namespace
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource_for(kind)}
    return {
        "uid": str(uuid.uuid4()),
        "kind": gvk,
        "resource": gvr,
        "requestKind": gvk,
        "requestResource": gvr,
        "name": str(metadata.get("name", "")),
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": CHECK_USERNAME},
        "object": {**obj, "metadata": metadata},
        "oldObject": None,
        "dryRun": True,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
