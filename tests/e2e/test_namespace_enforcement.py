"""Only enforcement admins relax a namespace: the namespace policy in the real API server, real users."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from aigov.core.config import ENFORCEMENT_LABEL
from aigov.install.namespace_policy import POLICY_NAME
from devkit.devcluster import ControlPlane, User
from devkit.devstack import apply

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]

ROLE = "aigov-test-namespace-editor"


@pytest.fixture(scope="module")
def editors(kube: ControlPlane) -> tuple[User, User]:
    """(an enforcement admin, a tool): both may create and patch namespaces; only the admin is in aigov:admins."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "create", "patch", "update"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": ROLE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE},
        "subjects": [
            {"kind": "User", "name": name, "apiGroup": "rbac.authorization.k8s.io"} for name in ("nadia", "gitops-bot")
        ],
    }
    apply(kube, role, binding)
    return kube.user("nadia", ("aigov:admins",)), kube.user("gitops-bot", ("tools",))


@pytest.fixture
def fresh(kube: ControlPlane) -> Iterator[str]:
    """A namespace name, deleted afterwards if created."""
    name = f"ns-{uuid.uuid4().hex[:8]}"
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false", check=False)


def label(kube: ControlPlane, namespace: str, user: User, *changes: str) -> subprocess.CompletedProcess[str]:
    return kube.kubectl("label", "--overwrite", "namespace", namespace, *changes, user=user, check=False)


def create(kube: ControlPlane, namespace: str, user: User, labels: dict[str, str]) -> subprocess.CompletedProcess[str]:
    doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}
    return kube.kubectl("create", "-f", "-", input=json.dumps(doc), user=user, check=False)


def mode(kube: ControlPlane, namespace: str) -> str | None:
    labels = json.loads(kube.kubectl("get", "namespace", namespace, "-o", "json").stdout)["metadata"].get("labels", {})
    value: str | None = labels.get(ENFORCEMENT_LABEL)
    return value


def refused(result: subprocess.CompletedProcess[str], code: str) -> str:
    assert result.returncode != 0, "expected the request to be refused"
    assert f"ValidatingAdmissionPolicy '{POLICY_NAME}'" in result.stderr, result.stderr
    assert code in result.stderr, result.stderr
    return result.stderr


def test_an_admin_sets_changes_and_removes_the_label(
    kube: ControlPlane, editors: tuple[User, User], fresh: str
) -> None:
    admin, _ = editors
    assert create(kube, fresh, admin, {ENFORCEMENT_LABEL: "off"}).returncode == 0
    assert mode(kube, fresh) == "off"
    assert label(kube, fresh, admin, f"{ENFORCEMENT_LABEL}=warn").returncode == 0
    assert label(kube, fresh, admin, f"{ENFORCEMENT_LABEL}-").returncode == 0
    assert mode(kube, fresh) is None


def test_the_cluster_admin_may_switch_off(kube: ControlPlane, namespace: str) -> None:
    """The emergency path of docs/install.md: system:masters is an enforcement admin by default."""
    kube.kubectl("label", "--overwrite", "namespace", namespace, f"{ENFORCEMENT_LABEL}=off")
    assert mode(kube, namespace) == "off"


def test_a_tool_with_namespace_rights_cannot_switch_enforcement_off(
    kube: ControlPlane, editors: tuple[User, User], fresh: str
) -> None:
    admin, tool = editors
    message = refused(create(kube, fresh, tool, {ENFORCEMENT_LABEL: "off"}), "AIGOV_ENFORCEMENT_ADMIN_ONLY")
    assert "only members of aigov:admins, system:masters may set, change or remove" in message
    assert "(here unset -> 'off', requested by gitops-bot)" in message

    assert create(kube, fresh, tool, {"team": "ml"}).returncode == 0
    refused(label(kube, fresh, tool, f"{ENFORCEMENT_LABEL}=off"), "AIGOV_ENFORCEMENT_ADMIN_ONLY")
    refused(label(kube, fresh, tool, f"{ENFORCEMENT_LABEL}=warn"), "AIGOV_ENFORCEMENT_ADMIN_ONLY")
    assert mode(kube, fresh) is None

    assert label(kube, fresh, admin, f"{ENFORCEMENT_LABEL}=audit").returncode == 0
    message = refused(label(kube, fresh, tool, f"{ENFORCEMENT_LABEL}-"), "AIGOV_ENFORCEMENT_ADMIN_ONLY")
    assert "(here 'audit' -> unset, requested by gitops-bot)" in message
    refused(label(kube, fresh, tool, f"{ENFORCEMENT_LABEL}=off"), "AIGOV_ENFORCEMENT_ADMIN_ONLY")
    assert mode(kube, fresh) == "audit"


def test_other_label_changes_and_tightening_pass(kube: ControlPlane, editors: tuple[User, User], fresh: str) -> None:
    admin, tool = editors
    assert create(kube, fresh, admin, {ENFORCEMENT_LABEL: "off"}).returncode == 0
    assert label(kube, fresh, tool, "team=ml", "cost-centre=42").returncode == 0  # enforcement unchanged
    assert label(kube, fresh, tool, f"{ENFORCEMENT_LABEL}=enforce").returncode == 0  # the strictest mode
    assert mode(kube, fresh) == "enforce"
    other = f"{fresh}-b"
    try:
        assert create(kube, other, tool, {ENFORCEMENT_LABEL: "enforce"}).returncode == 0
    finally:
        kube.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_an_unknown_mode_is_refused_for_everyone(kube: ControlPlane, editors: tuple[User, User], fresh: str) -> None:
    admin, _ = editors
    message = refused(create(kube, fresh, admin, {ENFORCEMENT_LABEL: "of"}), "AIGOV_ENFORCEMENT_VALUE")
    assert "is 'of'; use one of enforce, warn, audit, off" in message
