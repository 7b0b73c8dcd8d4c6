"""AIGovExceptions end to end: real users through `kubectl aigov exception`, the record policy in the
real API server, the webhook honouring an approved exception until the second it expires, and
`aigov check --exceptions` agreeing with it on the same objects."""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aigov.cli.app import app
from aigov.core.config import Config
from aigov.core.model import rfc3339
from aigov.install import exception_policy
from devkit.devcluster import ControlPlane, User
from devkit.devstack import Webhook
from devkit.devstack import apply as apply_objects
from tests.e2e.conftest import People
from tests.e2e.objects import aisystem, apply, checked, workload
from tests.polling import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]

runner = CliRunner()
DENIED_CODES = {"AIGOV_APPROVAL_MISSING", "AIGOV_ASSESSMENT_MISSING", "AIGOV_IMAGE_NOT_APPROVED"}


@dataclass(frozen=True)
class Requesters:
    """dave requests (and is an approver, to show self-approval refused); oscar is on call."""

    dave: User
    oscar: User


@pytest.fixture(scope="module")
def requesters(kube: ControlPlane, people: People, aigov_cluster: Webhook) -> Requesters:
    """The exception record policy, and RBAC for every test group to request and record exceptions."""
    apply_objects(kube, *exception_policy.manifests(Config()))
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "aigov-exception-writer"},
        "rules": [
            {"apiGroups": ["aigov.io"], "resources": ["aigovexceptions"], "verbs": ["get", "list", "create"]},
            {"apiGroups": ["aigov.io"], "resources": ["aigovexceptions/status"], "verbs": ["get", "patch"]},
        ],
    }
    groups = ("aigov:approvers", "aigov:on-call", "aigov:test-others", "aigov:test-requesters")
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "aigov-exception-writer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "aigov-exception-writer"},
        "subjects": [{"kind": "Group", "name": g, "apiGroup": "rbac.authorization.k8s.io"} for g in groups],
    }
    apply_objects(kube, role, binding)
    # A new ValidatingAdmissionPolicy takes a moment to load: wait until it refuses a forged requester.
    probe = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AIGovException",
        "metadata": {"name": "policy-probe", "namespace": "default"},
        "spec": {
            "system": "probe",
            "codes": ["AIGOV_APPROVAL_MISSING"],
            "justification": "probe",
            "ticket": "probe",
            "requestedBy": "someone-else",
            "expiresAt": rfc3339(datetime.now(UTC) + timedelta(days=1)),
        },
    }
    eventually(
        lambda: (
            "AIGOV_"
            in kube.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(probe), check=False).stderr
        ),
        what="the exception record policy in force",
    )
    return Requesters(
        dave=kube.user("dave", ("aigov:test-requesters", "aigov:approvers")),
        oscar=kube.user("oscar", ("aigov:on-call",)),
    )


def aigov(user: User, namespace: str, *args: str) -> tuple[int, str]:
    """`kubectl aigov exception ...` as `user`: exit code and stdout + stderr."""
    result = runner.invoke(app, ["exception", *args, "-n", namespace, "--kubeconfig", str(user.kubeconfig)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout + result.stderr


def request(user: User, namespace: str, name: str, *extra: str, verb: str = "request") -> tuple[int, str]:
    codes = [arg for code in sorted(DENIED_CODES) for arg in ("--code", code)]
    return aigov(user, namespace, verb, name, "--system", "chat", *codes, "--justification", "pilot",
                 "--ticket", "CHG-1", *extra)  # fmt: skip


def dry_run(kube: ControlPlane, namespace: str, obj: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """A server-side dry-run create: the webhook decides, nothing is stored."""
    return kube.kubectl("create", "--dry-run=server", "-n", namespace, "-f", "-", input=json.dumps(obj), check=False)


def codes_of(text: str) -> set[str]:
    return set(re.findall(r"AIGOV_[A-Z_]+", text)) - {"AIGOV_POLICY_UNAVAILABLE"}


def stored(kube: ControlPlane, namespace: str, kind: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kube.kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)
    return obj


@pytest.fixture
def chat(kube: ControlPlane, namespace: str) -> dict[str, Any]:
    """An AISystem without records and its model Deployment, denied for lack of them."""
    checked(apply(kube, namespace, aisystem("chat")))
    deployment = workload("Deployment", "llm", system="chat")
    denied = eventually(lambda: (r := dry_run(kube, namespace, deployment)).returncode != 0 and r, what="denied")
    assert codes_of(denied.stderr) == DENIED_CODES, denied.stderr
    return deployment


def test_self_approval_is_refused_by_the_api_server(
    kube: ControlPlane, people: People, requesters: Requesters, namespace: str, chat: dict[str, Any]
) -> None:
    assert request(requesters.dave, namespace, "pilot", "--expires", "7d")[0] == 0
    code, out = aigov(requesters.dave, namespace, "approve", "pilot", "--justification", "mine")
    assert code == 1 and "AIGOV_SELF_APPROVAL" in out, out
    code, out = aigov(people.eve, namespace, "approve", "pilot", "--justification", "not an approver")
    assert code == 1 and "AIGOV_NOT_APPROVER" in out, out
    assert dry_run(kube, namespace, chat).returncode != 0, "a pending exception must waive nothing"
    code, out = aigov(people.bob, namespace, "approve", "pilot", "--justification", "pilot accepted")
    assert code == 0, out
    admitted = eventually(lambda: (r := dry_run(kube, namespace, chat)).returncode == 0 and r, what="admitted")
    assert "waived by exception pilot until" in admitted.stderr
    code, out = aigov(people.eve, namespace, "revoke", "pilot", "--justification", "not mine")
    assert code == 1 and "AIGOV_NOT_REVOKER" in out, out
    assert aigov(requesters.dave, namespace, "revoke", "pilot", "--justification", "done")[0] == 0
    eventually(lambda: dry_run(kube, namespace, chat).returncode != 0, what="denied after revocation")


def test_requests_beyond_the_maximum_or_for_someone_else_are_refused(
    kube: ControlPlane, requesters: Requesters, namespace: str
) -> None:
    code, out = request(requesters.dave, namespace, "long", "--expires", "31d")
    assert code == 1 and "AIGOV_EXCEPTION_TOO_LONG" in out, out
    obj = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AIGovException",
        "metadata": {"name": "forged"},
        "spec": {"system": "chat", "codes": ["AIGOV_APPROVAL_MISSING"], "justification": "x", "ticket": "x",
                 "requestedBy": "bob", "expiresAt": rfc3339(datetime.now(UTC) + timedelta(days=1))},
    }  # fmt: skip
    result = apply(kube, namespace, obj, requesters.dave)
    assert result.returncode != 0 and "AIGOV_REQUESTER_MISMATCH" in result.stderr, result.stderr


def test_break_glass_only_for_the_on_call_group(
    kube: ControlPlane, people: People, requesters: Requesters, namespace: str, chat: dict[str, Any]
) -> None:
    code, out = request(people.eve, namespace, "incident", verb="break-glass")
    assert code == 1 and "AIGOV_NOT_ON_CALL" in out, out
    code, out = request(requesters.dave, namespace, "incident", verb="break-glass")
    assert code == 1 and "AIGOV_NOT_ON_CALL" in out, out
    code, out = request(requesters.oscar, namespace, "incident", "--expires", "5h", verb="break-glass")
    assert code == 1 and "AIGOV_EXCEPTION_TOO_LONG" in out, out
    assert request(requesters.oscar, namespace, "incident", verb="break-glass")[0] == 0
    admitted = eventually(lambda: (r := dry_run(kube, namespace, chat)).returncode == 0 and r, what="admitted")
    assert "waived by break-glass exception incident" in admitted.stderr
    code, out = aigov(people.bob, namespace, "list", "-o", "json")
    assert code == 0, out
    (listed,) = json.loads(out)
    assert (listed["state"], listed["approvedBy"], listed["breakGlass"]) == ("BreakGlass", None, True)
    assert aigov(people.bob, namespace, "approve", "incident", "--justification", "incident reviewed")[0] == 0
    records = stored(kube, namespace, "aigovexception", "incident")["status"]["records"]
    assert [(r["action"], r["by"]) for r in records] == [("reviewed", "bob")]


def check(tmp_path: Path, workload_obj: dict[str, Any], system: dict[str, Any], exc: dict[str, Any], now: str) -> int:
    """`aigov check` on the same objects as the cluster holds them, at `now`."""
    paths = {"workload": workload_obj, "system": system, "exception": exc}
    for name, obj in paths.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(obj))
    result = runner.invoke(
        app,
        ["check", str(tmp_path / "workload.json"), "--aisystems", str(tmp_path / "system.json"),
         "--exceptions", str(tmp_path / "exception.json"), "-n", system["metadata"]["namespace"], "--now", now],
    )  # fmt: skip
    return result.exit_code


def test_admitted_until_the_second_it_expires_and_check_agrees(
    kube: ControlPlane, people: People, requesters: Requesters, *, namespace: str, chat: dict[str, Any], tmp_path: Path
) -> None:
    assert request(requesters.dave, namespace, "pilot", "--expires", "15s")[0] == 0
    assert aigov(people.bob, namespace, "approve", "pilot", "--justification", "short pilot")[0] == 0
    exc = stored(kube, namespace, "aigovexception", "pilot")
    expires = datetime.fromisoformat(exc["spec"]["expiresAt"])
    eventually(lambda: dry_run(kube, namespace, chat).returncode == 0, what="admitted under the exception")
    # Probe the webhook across the expiry: every answer completed before it is an admission,
    # every one started at or after it a denial with the original codes.
    probes: list[tuple[datetime, datetime, subprocess.CompletedProcess[str]]] = []
    while not probes or probes[-1][0] < expires + timedelta(seconds=2):
        start = datetime.now(UTC)
        result = dry_run(kube, namespace, chat)
        probes.append((start, datetime.now(UTC), result))
        time.sleep(0.1)
    before = [r for start, end, r in probes if end < expires]
    after = [r for start, end, r in probes if start >= expires]
    assert before and after, "the probes must straddle the expiry"
    assert all(r.returncode == 0 and "waived by exception pilot" in r.stderr for r in before)
    assert all(r.returncode != 0 and codes_of(r.stderr) == DENIED_CODES for r in after)

    system = stored(kube, namespace, "aisystem", "chat")
    last_second = rfc3339(expires - timedelta(seconds=1))
    assert check(tmp_path, chat, system, exc, last_second) == 0
    assert check(tmp_path, chat, system, exc, rfc3339(expires)) == 1
    unapproved = {**exc, "status": {}}
    assert check(tmp_path, chat, system, unapproved, last_second) == 1


def audit_results(kube: ControlPlane, opa_url: str, namespace: str, name: str) -> list[dict[str, Any]]:
    """One audit round (`aigov audit run`, as the cluster admin) and the results of the namespace's Report."""
    result = runner.invoke(app, ["audit", "run", "--kubeconfig", str(kube.kubeconfig), "--opa-url", opa_url])
    assert result.exit_code == 0, result.stdout + result.stderr
    found = kube.kubectl("get", "reports.openreports.io", "aigov-audit", "-n", namespace, "-o", "json", check=False)
    report = json.loads(found.stdout) if found.returncode == 0 else {}
    return [r for r in report.get("results", []) if r["resources"][0]["name"] == name]


def test_the_audit_skips_what_an_exception_waives_and_fails_it_after_expiry(
    kube: ControlPlane,
    people: People,
    requesters: Requesters,
    aigov_cluster: Webhook,
    *,
    namespace: str,
    chat: dict[str, Any],
) -> None:
    """The third path of the same decision: while the exception is in force the running workload's waived codes
    are `skip` results naming the exception; the second it expires they are `fail`, as admission denies them."""
    kube.kubectl(
        "apply",
        "--server-side",
        "-f",
        str(Path(__file__).resolve().parents[1] / "fixtures" / "crds" / "openreports.io_reports.yaml"),
    )
    kube.kubectl("wait", "--for=condition=established", "crd/reports.openreports.io", "--timeout=30s")
    assert request(requesters.dave, namespace, "pilot", "--expires", "40s")[0] == 0
    assert aigov(people.bob, namespace, "approve", "pilot", "--justification", "pilot run")[0] == 0
    eventually(
        lambda: kube.kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(chat), check=False).returncode == 0,
        what="the workload is created under the exception",
    )
    expires = datetime.fromisoformat(stored(kube, namespace, "aigovexception", "pilot")["spec"]["expiresAt"])
    during = eventually(
        lambda: audit_results(kube, aigov_cluster.opa.url, namespace, chat["metadata"]["name"]), what="a report"
    )
    assert datetime.now(UTC) < expires, "the round must finish while the exception is in force"
    assert {(r["result"], r["rule"]) for r in during} == {("skip", code) for code in DENIED_CODES}
    assert all(r["properties"]["exception"] == "pilot" for r in during)
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 1)
    after = audit_results(kube, aigov_cluster.opa.url, namespace, chat["metadata"]["name"])
    assert {(r["result"], r["rule"]) for r in after} == {("fail", code) for code in DENIED_CODES}
