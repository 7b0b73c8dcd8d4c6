"""The RBAC the operator needs, rendered once as Kubernetes objects (the Helm chart and the tests reuse it).

Least privilege: it reads the kinds it watches; it writes only AISystem status,
the kopf finalizer on AISystems (`patch` on the object, nothing else), Events,
and its peering object. Serving chosen namespaces (`--namespace`) swaps the
cluster peering object for one per namespace and adds reading namespaces; the
cluster-scoped reads (CRDs, namespaces) need a ClusterRoleBinding, without
which kopf falls back to the namespaces given and the resources present at start.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aigov.config import GROUP, PLURAL
from aigov.operator.workloads import WORKLOAD_RESOURCES

OPERATOR_NAME = "aigov-operator"
_READ = ["list", "watch"]


def _rule(group: str, resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def operator_rules(clusterwide: bool = True) -> list[dict[str, Any]]:
    """The operator's PolicyRules."""
    workloads: dict[str, list[str]] = defaultdict(list)
    for group, plural in sorted(WORKLOAD_RESOURCES):
        workloads[group].append(plural)
    return [
        _rule(GROUP, [PLURAL], [*_READ, "patch"]),
        _rule(GROUP, [f"{PLURAL}/status"], ["patch"]),
        _rule("", ["events"], ["create"]),
        *(_rule(group, plurals, _READ) for group, plurals in workloads.items()),
        _rule("kopf.dev", ["clusterkopfpeerings" if clusterwide else "kopfpeerings"], [*_READ, "patch", "create"]),
        _rule("apiextensions.k8s.io", ["customresourcedefinitions"], _READ),
        *(() if clusterwide else (_rule("", ["namespaces"], _READ),)),
    ]


def cluster_role(name: str = OPERATOR_NAME, clusterwide: bool = True) -> dict[str, Any]:
    """The operator's ClusterRole."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": "aigov", "app.kubernetes.io/component": "operator"},
        },
        "rules": operator_rules(clusterwide),
    }


def cluster_role_binding(subject: dict[str, str], name: str = OPERATOR_NAME) -> dict[str, Any]:
    """Binds the ClusterRole `name` to `subject` (e.g. `{"kind": "ServiceAccount", "name": ..., "namespace": ...}`)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [subject],
    }
