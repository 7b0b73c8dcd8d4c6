"""The record archive with the operator running: records land in it once, outlive the AISystem, and no person
edits, shortens or deletes it (the AISystemArchive policy in the real API server, client-certificate users)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aigov.core.archive import verify
from aigov.core.config import Config
from aigov.install.archive_policy import archive_policy, archive_policy_binding
from aigov.install.rbac import cluster_role, cluster_role_binding
from devkit import devstack
from devkit.devcluster import ControlPlane, Server, User
from tests.e2e.conftest import People
from tests.e2e.objects import (
    OPERATOR,
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    assessment,
    checked,
    patch_status,
    when,
)
from tests.polling import eventually

pytestmark = pytest.mark.cluster

NAME = "chat"


@dataclass
class Setup:
    """The module's namespace, the operator serving it, and a retention admin."""

    kube: ControlPlane
    namespace: str
    workdir: Path
    operator: Server
    rita: User

    def uid(self) -> str:
        got = self.kube.kubectl("get", "aisystem", NAME, "-n", self.namespace, "-o", "jsonpath={.metadata.uid}")
        return got.stdout

    def entries(self, uid: str) -> list[dict[str, Any]]:
        got = self.kube.kubectl("get", "aisystemarchive", uid, "-o", "json", check=False)
        found: list[dict[str, Any]] = json.loads(got.stdout).get("entries", []) if got.returncode == 0 else []
        return found

    def kinds(self, uid: str) -> list[str]:
        return [e["kind"] for e in self.entries(uid)]


def start_operator(kube: ControlPlane, namespace: str, workdir: Path) -> Server:
    """`aigov operator` for `namespace` only, as the operator's identity with its own role."""
    return devstack.start_operator(workdir / "kubeconfig-operator", workdir, f"--namespace={namespace}", "--standalone")


@pytest.fixture(scope="module")
def setup(kube: ControlPlane, people: People, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """The archive policy bound, RBAC that would let people write archives (so the policy must refuse), the
    operator running for a fresh namespace."""
    namespace = f"archive-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", namespace)
    workdir = tmp_path_factory.mktemp("archive-operator")
    subject = {"kind": "User", "name": OPERATOR, "apiGroup": "rbac.authorization.k8s.io"}
    everyone = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "aigov-archive-everything"},
        "rules": [{"apiGroups": ["aigov.io"], "resources": ["aisystemarchives"], "verbs": ["*"]}],
    }
    groups = ("aigov:approvers", "aigov:test-others", "aigov:retention-admins")
    binding = cluster_role_binding({"kind": "Group", "name": groups[0], "apiGroup": "rbac.authorization.k8s.io"},
                                   "aigov-archive-everything")  # fmt: skip
    binding["subjects"] += [{"kind": "Group", "name": g, "apiGroup": "rbac.authorization.k8s.io"} for g in groups[1:]]
    binding["subjects"].append(subject)
    name = "aigov-operator-archive"
    devstack.apply(
        kube,
        archive_policy(Config()),
        archive_policy_binding(),
        everyone,
        binding,
        cluster_role(name, clusterwide=False),
        cluster_role_binding(subject, name),
    )
    kube.user(OPERATOR, kubeconfig=workdir / "kubeconfig-operator")
    probe = {"apiVersion": "aigov.io/v1alpha1", "kind": "AISystemArchive", "metadata": {"name": "probe"},
             "spec": {"system": {"namespace": "x", "name": "y", "uid": "z"}}}  # fmt: skip

    def refused_to_eve() -> bool:
        dry = kube.kubectl(
            "create", "--dry-run=server", "-f", "-", input=json.dumps(probe), user=people.eve, check=False
        )
        return "AIGOV_ARCHIVE_WRITER" in dry.stderr

    eventually(refused_to_eve, what="the archive policy in force")
    setup = Setup(
        kube,
        namespace,
        workdir,
        start_operator(kube, namespace, workdir),
        kube.user("rita", ("aigov:retention-admins",)),
    )
    try:
        yield setup
    finally:
        setup.operator.stop(timeout=20)  # the one running now: the test restarts it


def aigov(user: User, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(devstack.AIGOV), *args, f"--kubeconfig={user.kubeconfig}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_records_outlive_the_system_in_an_archive_nobody_edits(setup: Setup, people: People, tmp_path: Path) -> None:
    kube, ns = setup.kube, setup.namespace
    checked(apply(kube, ns, aisystem(NAME)))
    checked(append_assessment(kube, ns, NAME, assessment("alice"), people.alice))
    checked(append_approval(kube, ns, NAME, approval("bob"), people.bob))
    uid = setup.uid()
    eventually(lambda: setup.kinds(uid) == ["spec", "assessment", "approval"], what="the records archived")
    assert [e.get("by") for e in setup.entries(uid)] == [None, "alice", "bob"]

    # A restarted operator re-derives the entries from the same records: it appends nothing, only the new record.
    setup.operator.stop(timeout=20)
    setup.operator = start_operator(kube, ns, setup.workdir)
    retirement = {"retiredBy": "bob", "retiredAt": when(0), "justification": "replaced by chat-v2"}
    checked(patch_status(kube, ns, NAME, {"retirement": retirement}, people.bob))
    eventually(lambda: setup.kinds(uid) == ["spec", "assessment", "approval", "retirement"], what="the retirement")

    checked(kube.kubectl("delete", "aisystem", NAME, "-n", ns, "--timeout=60s", check=False))
    eventually(lambda: setup.kinds(uid)[-1:] == ["deleted"], what="the tombstone")
    entries = setup.entries(uid)
    assert [e["kind"] for e in entries] == ["spec", "assessment", "approval", "retirement", "deleted"]
    assert verify(entries) is None

    shown = aigov(people.bob, "history", NAME, "-n", ns)
    assert shown.returncode == 0, shown.stderr
    assert "archived deleted" in shown.stdout and "archived approval" in shown.stdout
    assert f"uid {uid}): 5 entries, deleted, observed" in shown.stderr and "chain intact" in shown.stderr

    pack = tmp_path / "pack"
    exported = subprocess.run(
        [str(devstack.AIGOV), "evidence", "export", "-n", ns, "--out", str(pack), f"--kubeconfig={kube.kubeconfig}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    document = json.loads((pack / "evidence.json").read_text())
    assert document["systems"] == []  # the snapshot no longer holds it; the archive does
    (archived,) = document["recordArchive"]["systems"]
    assert (archived["name"], archived["uid"], archived["chainError"]) == (NAME, uid, None)
    assert archived["deleted"] == entries[-1] and archived["entries"] == entries

    # People cannot edit, shorten or delete it; the operator itself cannot rewrite it either.
    def patch(user: User, body: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return kube.kubectl("patch", "aisystemarchive", uid, "--type=merge", "-p", json.dumps(body), user=user,
                            check=False)  # fmt: skip

    edited = [{**entries[0], "by": "eve"}, *entries[1:]]
    assert "AIGOV_ARCHIVE_WRITER" in patch(people.eve, {"entries": edited}).stderr
    assert "AIGOV_ARCHIVE_WRITER" in patch(people.bob, {"entries": entries[:2]}).stderr
    operator_cut = patch(people.operator, {"entries": entries[:2]})
    assert "AIGOV_RECORD_IMMUTABLE" in operator_cut.stderr, operator_cut.stderr
    assert "AIGOV_RECORD_IMMUTABLE" in patch(people.operator, {"entries": edited}).stderr
    for user in (people.eve, people.bob, people.operator):
        refused = kube.kubectl("delete", "aisystemarchive", uid, "--dry-run=server", user=user, check=False)
        assert "AIGOV_ARCHIVE_RETAINED" in refused.stderr, refused.stderr
    checked(kube.kubectl("delete", "aisystemarchive", uid, "--dry-run=server", user=setup.rita, check=False))
    assert setup.entries(uid) == entries


def test_a_system_deleted_while_no_operator_ran_gets_its_tombstone_at_the_next_start(
    setup: Setup, people: People
) -> None:
    kube, ns, name = setup.kube, setup.namespace, "offline"
    checked(apply(kube, ns, aisystem(name)))
    checked(append_assessment(kube, ns, name, assessment("alice"), people.alice))
    uid = kube.kubectl("get", "aisystem", name, "-n", ns, "-o", "jsonpath={.metadata.uid}").stdout
    eventually(lambda: setup.kinds(uid) == ["spec", "assessment"], what="the records archived")

    setup.operator.stop(timeout=20)
    retirement = {"retiredBy": "bob", "retiredAt": when(0), "justification": "never deployed"}
    checked(patch_status(kube, ns, name, {"retirement": retirement}, people.bob))
    checked(kube.kubectl("delete", "aisystem", name, "-n", ns, "--timeout=60s", check=False))
    assert setup.kinds(uid) == ["spec", "assessment"], "nobody archived while the operator was down"

    setup.operator = start_operator(kube, ns, setup.workdir)
    eventually(lambda: setup.kinds(uid)[-1:] == ["deleted"], what="the tombstone written at start")
    entries = setup.entries(uid)
    assert [e["kind"] for e in entries] == ["spec", "assessment", "deleted"], "the retirement was never observed"
    assert entries[-1]["record"] == {"foundMissing": True} and entries[-1]["observedAt"] >= entries[-2]["observedAt"]
    assert verify(entries) is None
