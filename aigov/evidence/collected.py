"""What an evidence pack is made from, and the pure trimming of what was read into it.

Collection (`aigov.evidence.collect`) reads AISystems, their Events, labelled
workloads and, optionally, Prometheus; it passes every object through the
`*_record` functions here, which keep only what an auditor needs and never a
Secret, an environment variable, an annotation or managed fields.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aigov.core.config import Config
from aigov.core.workloads import of_object, resolve, system_label

_META_KEPT = ("name", "namespace", "uid", "generation", "resourceVersion", "creationTimestamp", "labels")


@dataclass(frozen=True, slots=True)
class DecisionCount:
    """Admission decisions with one (decision, violation code) over the period (Prometheus `increase`)."""

    decision: str
    code: str
    count: int


@dataclass(frozen=True, slots=True)
class CodeSeries:
    """Denials with one violation code per time bucket (bucket end, count)."""

    code: str
    points: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True, slots=True)
class Admissions:
    """Admission decisions from Prometheus for the period."""

    source: str
    step_seconds: int
    counts: tuple[DecisionCount, ...]
    denials: tuple[CodeSeries, ...]


@dataclass(frozen=True, slots=True)
class CheckSeries:
    """One drift check over the period, per step: its query's value and whether it was breached (1) or not (0)."""

    namespace: str
    aisystem: str
    check: str
    step_seconds: int
    values: tuple[tuple[datetime, float], ...]
    breached: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True, slots=True)
class Collected:
    """Everything the evidence pack is rendered from (already trimmed)."""

    generated_at: datetime
    period_start: datetime
    server: str
    namespaces: tuple[str, ...] | None
    systems: tuple[dict[str, Any], ...]
    events: Mapping[str, tuple[dict[str, Any], ...]]
    workloads: tuple[dict[str, Any], ...]
    policy_bundle: Mapping[str, str]
    admissions: Admissions | None
    warnings: tuple[str, ...]
    decision_log: Mapping[str, Any] | None = None
    """The decision-log chains checked for the pack (`aigov.telemetry.decision_log.chain_heads`), if any."""
    ungoverned: tuple[dict[str, Any], ...] = ()
    """Failures from the audit's reports: AI workloads running that admission would deny now."""
    not_ai: tuple[dict[str, Any], ...] = ()
    """Workloads declared not AI (config.detection.notAiLabel), with their reasons."""
    exceptions: tuple[dict[str, Any], ...] = ()
    """AIGovExceptions as stored (the document keeps those in force during the period)."""
    cluster_uid: str | None = None
    """The kube-system namespace's UID: names the cluster whatever its server address."""
    exporter: Mapping[str, Any] | None = None
    """Who exported the pack: the SelfSubjectReview's username and groups."""
    management_system: Mapping[str, Any] | None = None
    """The AIManagementSystem (trimmed like an AISystem), if one is installed and readable."""
    monitoring: tuple[CheckSeries, ...] | None = None
    """Drift checks over the period from Prometheus (None when Prometheus was not queried)."""
    nonconformities: tuple[dict[str, Any], ...] = ()
    """Nonconformities in scope (trimmed like AISystems)."""
    previous_document: Mapping[str, Any] | None = None
    """The previous pack's `evidence.json`: the management review's trends and open actions compare with it."""
    archives: tuple[dict[str, Any], ...] = ()
    """Archived AISystems in scope (`aigov.core.archive`), deleted ones included: identity and every entry."""
    previous_pack: Mapping[str, str] | None = None
    """The pack before this one (`aigov.evidence.pack.pack_reference`): its digest chains the packs."""

    @property
    def scope(self) -> str:
        """`all namespaces` or the namespaces, comma-separated."""
        return "all namespaces" if self.namespaces is None else ", ".join(self.namespaces)


def aisystem_record(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An AISystem (or AIManagementSystem), metadata trimmed to identity, labels and times (no annotations)."""
    meta = obj.get("metadata") or {}
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": {k: meta[k] for k in _META_KEPT if k in meta},
        "spec": obj.get("spec") or {},
        "status": obj.get("status") or {},
    }


def event_record(event: Mapping[str, Any]) -> dict[str, Any]:
    """An Event as type, reason, message, count, source and time."""
    source = event.get("reportingComponent") or (event.get("source") or {}).get("component") or ""
    when = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
    return {
        "time": when or (event.get("metadata") or {}).get("creationTimestamp"),
        "type": event.get("type"),
        "reason": event.get("reason"),
        "message": event.get("message"),
        "count": event.get("count") or 1,
        "source": source,
    }


def _containers(obj: Mapping[str, Any], config: Config) -> list[Mapping[str, Any]]:
    """The containers of every pod spec the kind table names for `obj`, and its single containers."""
    entry = of_object(config.kinds, obj)
    if entry is None:
        return []
    found: list[Mapping[str, Any]] = []
    for path in entry.pod_specs:
        for pod in resolve(obj, path):
            if isinstance(pod, Mapping):
                found += [
                    c for f in ("initContainers", "containers") for c in pod.get(f) or [] if isinstance(c, Mapping)
                ]
    found += [c for path in entry.containers for c in resolve(obj, path) if isinstance(c, Mapping)]
    return found


def not_ai_record(obj: Mapping[str, Any], config: Config) -> dict[str, Any] | None:
    """A workload declared not AI: identity and reason (empty when missing: admission then ignores the label)."""
    meta = obj.get("metadata") or {}
    if (meta.get("labels") or {}).get(config.detection.not_ai_label) != "true":
        return None
    reason = (meta.get("annotations") or {}).get(config.detection.not_ai_reason_annotation)
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "reason": reason.strip() if isinstance(reason, str) else "",
    }


def workload_record(obj: Mapping[str, Any], config: Config) -> dict[str, Any]:
    """A labelled workload as its identity, system, images, replicas and accelerator limits (never env or args)."""
    meta = obj.get("metadata") or {}
    accelerator_patterns: Sequence[str] = config.detection.accelerator_resources
    containers = _containers(obj, config)
    accelerators: dict[str, int] = {}
    for container in containers:
        for resource, amount in ((container.get("resources") or {}).get("limits") or {}).items():
            if any(fnmatch.fnmatchcase(resource, p) for p in accelerator_patterns) and str(amount).isdigit():
                accelerators[resource] = accelerators.get(resource, 0) + int(str(amount))
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "system": system_label(obj, config),
        "images": [c.get("image") for c in containers if c.get("image")],
        "replicas": (obj.get("spec") or {}).get("replicas"),
        "accelerators": accelerators,
    }
