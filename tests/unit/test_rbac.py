"""The operator's RBAC is least privilege and covers what it watches and writes."""

from __future__ import annotations

from typing import Any

from aigov.core.workloads import KINDS
from aigov.install.rbac import cluster_role, cluster_role_binding, operator_rules, suspension_writes


def grants(rules: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(group, resource) -> verbs."""
    out: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


def test_writes_are_limited_to_status_finalizers_events_peering_and_suspension() -> None:
    granted = grants(operator_rules())
    assert granted[("aigov.io", "aisystems")] == {"get", "list", "watch", "patch"}
    assert granted[("aigov.io", "aisystems/status")] == {"patch"}
    assert granted[("aigov.io", "aigovexceptions")] == {"get", "list", "watch"}
    assert granted[("aigov.io", "aigovexceptions/status")] == {"patch"}
    assert granted[("", "events")] == {"create"}
    assert granted[("aigov.io", "nonconformities")] == {"get", "list", "watch", "create", "patch"}
    assert granted[("aigov.io", "aisystemarchives")] == {"get", "list", "create", "patch"}
    assert granted[("kopf.dev", "clusterkopfpeerings")] == {"list", "watch", "patch", "create"}
    writers = {key for key, verbs in granted.items() if verbs - {"get", "list", "watch"}}
    assert writers == {
        ("aigov.io", "aisystems"),
        ("aigov.io", "aisystems/status"),
        ("aigov.io", "aigovexceptions/status"),
        ("aigov.io", "nonconformities"),
        ("aigov.io", "nonconformities/status"),
        ("aigov.io", "aisystemarchives"),
        ("", "events"),
        ("kopf.dev", "clusterkopfpeerings"),
        *((group, resource) for group, resources in suspension_writes().items() for resource in resources),
    }


def test_no_wildcards_and_deletes_only_bare_pods() -> None:
    for rule in operator_rules() + operator_rules(clusterwide=False):
        assert "*" not in rule["apiGroups"] and "*" not in rule["resources"] and "*" not in rule["verbs"]
        assert not {"deletecollection", "update", "escalate", "bind", "impersonate"} & set(rule["verbs"])
        if "delete" in rule["verbs"]:
            assert (rule["apiGroups"], rule["resources"]) == ([""], ["pods"])


def test_bindable_workloads_are_read_only_unless_a_suspension_stops_them() -> None:
    granted = grants(operator_rules())
    writes = suspension_writes()
    for group, plural in {(k.group, k.resource) for k in KINDS}:
        verbs = set(writes.get(group, {}).get(plural, []))
        assert granted[(group, plural)] == {"list", "watch", *verbs}
    assert granted[("apps", "deployments/scale")] == granted[("", "replicationcontrollers/scale")] == {"get", "patch"}
    assert granted[("apps", "daemonsets")] == {"get", "list", "watch", "patch"}
    assert granted[("", "pods")] == {"get", "list", "watch", "delete", "create"}


def test_namespaced_mode_uses_namespaced_peering_and_lists_namespaces() -> None:
    granted = grants(operator_rules(clusterwide=False))
    assert ("kopf.dev", "clusterkopfpeerings") not in granted
    assert granted[("kopf.dev", "kopfpeerings")] == {"list", "watch", "patch", "create"}
    assert granted[("", "namespaces")] == {"list", "watch"}
    assert ("", "namespaces") not in grants(operator_rules())


def test_rendered_objects_reference_each_other() -> None:
    role = cluster_role("op")
    binding = cluster_role_binding({"kind": "User", "name": "me", "apiGroup": "rbac.authorization.k8s.io"}, "op")
    assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "op"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "op"}
