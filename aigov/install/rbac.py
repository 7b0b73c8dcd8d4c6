"""The RBAC the operator needs, rendered once as Kubernetes objects (the Helm chart and the tests reuse it).

Least privilege: it reads the kinds it watches; it writes only AISystem status,
the kopf finalizer on AISystems (`patch` on the object, nothing else), Events,
its peering object, the record archive (get, list, create, append), and what a suspension stops and a resume restores
(`suspension_writes`, from the kinds table: the scale subresources, patches of
the suspend fields, the InferenceService stop annotation and the DaemonSet stop
node selector; `delete` and `create` on Pods only, because a bare Pod can only
be stopped by deleting it and restored by re-creating it). Serving chosen namespaces (`--namespace`) swaps the
cluster peering object for one per namespace and adds reading namespaces; the
cluster-scoped reads (CRDs, namespaces) need a ClusterRoleBinding, without
which kopf falls back to the namespaces given and the resources present at start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from aigov.core.archive import ARCHIVE_PLURAL
from aigov.core.config import EXCEPTION_PLURAL, GROUP, PLURAL
from aigov.core.management_system import MS_PLURAL
from aigov.core.nonconformity import NC_PLURAL
from aigov.core.suspension import STOP_METHODS
from aigov.core.workloads import KINDS, StopMethod, WorkloadKind
from aigov.install.admission import NAME as WEBHOOK_CONFIGURATION

OPERATOR_NAME = "aigov-operator"
WEBHOOK_NAME = "aigov-webhook"
AUDIT_NAME = "aigov-audit"
REPORT_WRITES = {"openreports.io": ["reports"], "wgpolicyk8s.io": ["policyreports"]}
"""The report kinds the audit writes (`aigov.core.reports.Format`)."""
_READ = ["list", "watch"]


_STOP_VERBS = {StopMethod.DELETE: ["get", "delete", "create"]}
"""Verbs per stop method: a bare Pod is deleted and re-created; every other method is a patch."""


def suspension_writes() -> dict[str, dict[str, list[str]]]:
    """(API group -> resource -> verbs) the operator needs to stop and restore workloads (`aigov.core.suspension`)."""
    writes: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for kind in KINDS:
        if kind.stop in STOP_METHODS:
            resource = f"{kind.resource}/scale" if kind.stop == StopMethod.SCALE else kind.resource
            writes[kind.group][resource] = _STOP_VERBS.get(kind.stop, ["get", "patch"])
    return {group: dict(sorted(resources.items())) for group, resources in sorted(writes.items())}


def workload_reads() -> dict[str, list[str]]:
    """(API group -> resources) of every kind in the table, which the operator lists and watches."""
    reads: dict[str, set[str]] = defaultdict(set)
    for kind in KINDS:
        reads[kind.group].add(kind.resource)
    return {group: sorted(resources) for group, resources in sorted(reads.items())}


def _rule(group: str, resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def operator_rules(clusterwide: bool = True) -> list[dict[str, Any]]:
    """The operator's PolicyRules."""
    return [
        _rule(GROUP, [PLURAL], ["get", *_READ, "patch"]),
        _rule(GROUP, [f"{PLURAL}/status"], ["patch"]),
        _rule(GROUP, [EXCEPTION_PLURAL], ["get", *_READ]),
        _rule(GROUP, [f"{EXCEPTION_PLURAL}/status"], ["patch"]),
        _rule(GROUP, [NC_PLURAL], ["get", *_READ, "create", "patch"]),
        _rule(GROUP, [f"{NC_PLURAL}/status"], ["patch"]),
        _rule(GROUP, [ARCHIVE_PLURAL], ["get", "list", "create", "patch"]),
        _rule("", ["events"], ["create"]),
        *(_rule(group, plurals, _READ) for group, plurals in workload_reads().items()),
        *(
            _rule(group, [resource], verbs)
            for group, resources in suspension_writes().items()
            for resource, verbs in resources.items()
        ),
        _rule("kopf.dev", ["clusterkopfpeerings" if clusterwide else "kopfpeerings"], [*_READ, "patch", "create"]),
        _rule("apiextensions.k8s.io", ["customresourcedefinitions"], _READ),
        *(() if clusterwide else (_rule("", ["namespaces"], _READ),)),
    ]


def webhook_rules(
    kinds: Iterable[WorkloadKind] = KINDS, configuration: str = WEBHOOK_CONFIGURATION
) -> list[dict[str, Any]]:
    """What the webhook reads: AISystems, AIGovExceptions and namespaces (its list+watch caches), and GET
    on every kind with a `scale` subresource, to resolve a scale request to the workload's system; and its
    own webhook configuration, which it arms once ready (`aigov.webhook.arming`)."""
    scaled: dict[str, set[str]] = defaultdict(set)
    for kind in kinds:
        if kind.scale:
            scaled[kind.group].add(kind.resource)
    return [
        _rule(GROUP, [PLURAL], ["get", "list", "watch"]),
        _rule(GROUP, [EXCEPTION_PLURAL], ["list", "watch"]),
        _rule("", ["namespaces"], ["get", "list", "watch"]),
        *(_rule(group, sorted(resources), ["get"]) for group, resources in sorted(scaled.items())),
        {
            **_rule("admissionregistration.k8s.io", ["validatingwebhookconfigurations"], ["get", "patch"]),
            "resourceNames": [configuration],
        },
    ]


def audit_rules(kinds: Iterable[WorkloadKind] = KINDS) -> list[dict[str, Any]]:
    """What the audit needs: list every kind of the table; list and watch AISystems and namespaces (its
    triggers); list AIGovExceptions (waived results are `skip`); list CRDs (unreviewed kinds); list, patch
    (server-side apply, which may create) and delete its reports. Objects of unreviewed kinds are read only
    where a platform team grants `list` on them."""
    reads: dict[str, set[str]] = defaultdict(set)
    for kind in kinds:
        reads[kind.group].add(kind.resource)
    return [
        _rule(GROUP, [PLURAL], _READ),
        _rule(GROUP, [EXCEPTION_PLURAL], ["list"]),
        _rule("", ["namespaces"], _READ),
        *(_rule(group, sorted(resources), ["list"]) for group, resources in sorted(reads.items())),
        _rule("apiextensions.k8s.io", ["customresourcedefinitions"], ["list"]),
        *(_rule(group, resources, ["list", "create", "patch", "delete"]) for group, resources in REPORT_WRITES.items()),
        _rule(GROUP, [NC_PLURAL], ["create"]),
    ]


def _component_role(name: str, component: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": "aigov", "app.kubernetes.io/component": component},
        },
        "rules": rules,
    }


def audit_cluster_role(name: str = AUDIT_NAME, kinds: Iterable[WorkloadKind] = KINDS) -> dict[str, Any]:
    """The audit's ClusterRole (`audit_rules`)."""
    return _component_role(name, "audit", audit_rules(kinds))


def webhook_cluster_role(
    name: str = WEBHOOK_NAME, kinds: Iterable[WorkloadKind] = KINDS, configuration: str = WEBHOOK_CONFIGURATION
) -> dict[str, Any]:
    """The webhook's ClusterRole (`webhook_rules`)."""
    return _component_role(name, "webhook", webhook_rules(kinds, configuration))


def cluster_role(name: str = OPERATOR_NAME, clusterwide: bool = True) -> dict[str, Any]:
    """The operator's ClusterRole."""
    return _component_role(name, "operator", operator_rules(clusterwide))


def cluster_role_binding(subject: dict[str, str], name: str = OPERATOR_NAME) -> dict[str, Any]:
    """Binds the ClusterRole `name` to `subject` (e.g. `{"kind": "ServiceAccount", "name": ..., "namespace": ...}`)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [subject],
    }


def people_cluster_roles() -> list[dict[str, Any]]:
    """Ready-made roles for people: approvers and assessors write records through `aisystems/status` only;
    requesters create AIGovExceptions (and revoke their own), approvers approve or review them."""
    read = _rule(GROUP, [PLURAL, EXCEPTION_PLURAL], ["get", "list", "watch"])
    exception_records = _rule(GROUP, [f"{EXCEPTION_PLURAL}/status"], ["get", "patch"])
    request = _rule(GROUP, [EXCEPTION_PLURAL], ["create"])
    write_records = _rule(GROUP, [f"{PLURAL}/status"], ["get", "patch"])
    whoami = _rule("authentication.k8s.io", ["selfsubjectreviews"], ["create"])
    events = _rule("", ["events"], ["get", "list", "watch"])
    read_ncs = _rule(GROUP, [NC_PLURAL], ["get", "list", "watch"])
    close_ncs = _rule(GROUP, [f"{NC_PLURAL}/status"], ["get", "patch"])
    workloads = [_rule(group, resources, ["get", "list"]) for group, resources in workload_reads().items()]
    roles = {
        "aigov-auditor": [
            _rule(GROUP, [PLURAL, NC_PLURAL, EXCEPTION_PLURAL], ["get", "list"]),
            _rule("", ["events"], ["get", "list"]),
            *workloads,
            *(_rule(group, resources, ["get", "list"]) for group, resources in REPORT_WRITES.items()),
            whoami,
        ],
        # The cluster-scoped reads of an evidence export: bound cluster-wide (ClusterRoleBinding) to whoever exports.
        "aigov-auditor-cluster": [
            {**_rule("", ["namespaces"], ["get"]), "resourceNames": ["kube-system"]},
            _rule(GROUP, [MS_PLURAL, ARCHIVE_PLURAL], ["get", "list"]),
        ],
        "aigov-management-approver": [
            _rule(GROUP, [MS_PLURAL], ["get", "list", "watch"]),
            _rule(GROUP, [f"{MS_PLURAL}/status"], ["get", "patch"]),
            whoami,
        ],
        "aigov-approver": [read, write_records, exception_records, whoami, events, read_ncs, close_ncs],
        "aigov-assessor": [read, write_records, whoami, events],
        "aigov-exception-requester": [read, request, exception_records, whoami, events],
        # The record archive (cluster-scoped): bound cluster-wide to whoever reads `aigov history`.
        "aigov-archive-reader": [_rule(GROUP, [ARCHIVE_PLURAL], ["get", "list"])],
        "aigov-viewer": [
            read,
            _rule(GROUP, [f"{PLURAL}/status", f"{EXCEPTION_PLURAL}/status"], ["get"]),
            events,
            read_ncs,
        ],
    }
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
            "rules": rules,
        }
        for name, rules in roles.items()
    ]
