"""The AIManagementSystem on the real API server: approvals bound by its own policy, and in the evidence pack."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.evidence.pack import pack_reference
from aigov.install.management_policy import management_policy, management_policy_binding
from aigov.install.rbac import people_cluster_roles
from devkit.devcluster import User
from tests.integration.cli.conftest import People, apply, run
from tests.polling import eventually

pytestmark = pytest.mark.cluster


def _binding(role: str, users: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{role}-{uuid.uuid4().hex[:6]}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in users],
    }


@pytest.fixture(scope="module")
def aims(people: People) -> Iterator[str]:
    """An AIManagementSystem under the approval policy; deleted afterwards (it is cluster-scoped)."""
    name = f"acme-{uuid.uuid4().hex[:6]}"
    apply(people.kube, management_policy(Config()), management_policy_binding(), *people_cluster_roles())
    apply(people.kube, _binding("aigov-management-approver", ["alice", "bob", "mallory"]))
    spec = {
        "version": "2026.1",
        "scope": {"description": "every AI system on the platform"},
        "policy": {"reference": "https://intranet/ai-policy.pdf", "version": "4"},
        "roles": [{"name": "AI governance lead", "holder": "Dana"}],
        "objectives": [{"name": "governed", "statement": "every AI workload governed", "kpi": "coverage",
                        "target": "100%"}],
        "statementOfApplicability": [
            {"id": "A.2.2", "applicable": True, "justification": "needed", "status": "implemented", "owner": "Dana"}
        ],
    }  # fmt: skip
    apply(people.kube, {"apiVersion": "aigov.io/v1alpha1", "kind": "AIManagementSystem", "metadata": {"name": name},
                        "spec": spec})  # fmt: skip
    yield name
    people.kube.kubectl("delete", "aimanagementsystem", name, "--wait=false")


def _stored(people: People, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(people.kube.kubectl("get", "aims", name, "-o", "json").stdout)
    return found


def _approve(
    people: People, user: User, name: str, approver: str, *, dry_run: bool = False, **pin: Any
) -> tuple[int, str]:
    obj = _stored(people, name)
    approvals = (obj.get("status") or {}).get("approvals") or []
    entry = {
        "approver": approver,
        "version": obj["spec"]["version"],
        "generation": obj["metadata"]["generation"],
        "decidedAt": "2026-06-01T00:00:00Z",
        **pin,
    }
    patch = {"status": {"approvals": [*approvals, entry]}}
    dry = ["--dry-run=server"] if dry_run else []
    result = people.kube.kubectl("patch", "aims", name, "--subresource=status", "--type=merge", *dry, "-p",
                                 json.dumps(patch), user=user, check=False)  # fmt: skip
    return result.returncode, result.stderr


def _refused_with(people: People, user: User, name: str, approver: str, code: str, **pin: Any) -> None:
    """Policies take a moment to load: retry (as server-side dry runs, so nothing is stored meanwhile)
    until the refusal carries `code`."""
    eventually(lambda: code in _approve(people, user, name, approver, dry_run=True, **pin)[1], timeout=15, what=code)


def test_approvals_are_bound_to_approvers_and_pin_the_revision(people: People, aims: str) -> None:
    _refused_with(people, people.mallory, aims, "mallory", "AIGOV_NOT_APPROVER")
    _refused_with(people, people.bob, aims, "alice", "AIGOV_APPROVER_MISMATCH")
    _refused_with(people, people.bob, aims, "bob", "AIGOV_APPROVAL_NOT_CURRENT", version="2025.9")
    assert _approve(people, people.bob, aims, "bob") == (0, "")
    [approval] = _stored(people, aims)["status"]["approvals"]
    assert (approval["approver"], approval["version"], approval["generation"]) == ("bob", "2026.1", 1)
    rewrite = {"status": {"approvals": [{**approval, "approver": "alice"}]}}
    result = people.kube.kubectl("patch", "aims", aims, "--subresource=status", "--type=merge", "-p",
                                 json.dumps(rewrite), user=people.alice, check=False)  # fmt: skip
    assert "AIGOV_RECORD_IMMUTABLE" in result.stderr


def test_pack_carries_the_organisation_soa(people: People, aims: str, governed_namespace: str, tmp_path: Path) -> None:
    if not _stored(people, aims).get("status"):
        assert _approve(people, people.bob, aims, "bob")[0] == 0
    apply(people.kube, _binding("aigov-auditor-cluster", ["ivan"]))
    result = run(people.ivan, governed_namespace, "evidence", "export", "--out", str(tmp_path / "pack"))
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "pack" / "evidence.json").read_text())
    ms = document["managementSystem"]
    assert (ms["name"], ms["version"], ms["currentApproval"]["approver"]) == (aims, "2026.1", "bob")
    rows = {r["control"]: r for r in csv.DictReader(io.StringIO((tmp_path / "pack" / "soa.csv").read_text()))}
    assert (rows["A.2.2"]["applicability"], rows["A.2.2"]["status"], rows["A.2.2"]["owner"]) == (
        "applicable",
        "implemented",
        "Dana",
    )
    assert rows["A.7.4"]["status"] == "notAddressed"
    assert "AI governance lead" in (tmp_path / "pack" / "report.html").read_text()


def test_review_of_a_chained_pack_is_signed_off_as_a_record(
    people: People, aims: str, governed_namespace: str, tmp_path: Path
) -> None:
    apply(people.kube, _binding("aigov-auditor-cluster", ["ivan"]))
    first, second = tmp_path / "first", tmp_path / "second"
    for out, chain in ((first, ()), (second, ("--previous", str(first)))):
        result = run(people.ivan, governed_namespace, "evidence", "export", "--out", str(out), *chain)
        assert result.exit_code == 0, result.output
    review = json.loads((second / "evidence.json").read_text())["review"]
    assert review["previousPack"]["digest"].startswith("sha256:")
    assert {t["kpi"] for t in review["trends"]} >= {"aiSystems", "openNonconformities", "monitoringCoverage"}

    refused = run(people.mallory, None, "evidence", "sign-off", str(second), "--decision", "accepted")
    assert refused.exit_code == 1
    assert "AIGOV_NOT_APPROVER" in refused.stderr
    signed = run(people.bob, None, "evidence", "sign-off", str(second), "--decision", "accepted",
                 "--notes", "minutes: https://intranet/review-q2")  # fmt: skip
    assert signed.exit_code == 0, signed.output
    [entry] = _stored(people, aims)["status"]["reviews"]
    assert (entry["reviewer"], entry["decision"]) == ("bob", "accepted")
    assert entry["packDigest"] == pack_reference(second)["digest"]
