"""`aigov assess|approve|revoke|suspend|resume|retire` as distinct users against the real API server."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from aigov.clients.kube import JSON_PATCH, ApiError, KubeRest, aisystems_path
from aigov.core.digests import spec_hash
from aigov.core.model import AISystemSpec
from aigov.core.records import approval_patch
from tests.integration.cli.conftest import IMAGE, People, apply, get, run, system

pytestmark = pytest.mark.cluster
SHA = hashlib.sha256(b"impact assessment").hexdigest()
AIGOV = Path(sys.executable).parent / "aigov"


def _assess(people: People, ns: str, name: str = "chat") -> None:
    result = run(
        people.carol, ns, "assess", name, "--reference", "https://docs.example.com/fria", "--sha256", SHA,
        "--expires", "365d", "--residual-risk", "low",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def _approve(people: People, ns: str, user: str, name: str = "chat", *extra: str) -> tuple[int, str, str]:
    result = run(
        getattr(people, user), ns, "approve", name, "--role", "risk-officer", "--expires", "180d",
        "--justification", "reviewed the assessment", *extra,
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def _close_to_now(value: str, offset: timedelta = timedelta(0)) -> bool:
    return abs(datetime.fromisoformat(value) - (datetime.now(UTC) + offset)) < timedelta(seconds=30)


def test_assess_records_the_calling_user(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    result = run(
        people.carol, ns, "assess", "chat", "--reference", "https://docs.example.com/fria", "--sha256", SHA.upper(),
        "--expires", "365d", "--residual-risk", "medium",
    )  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, "aisystem.aigov.io/chat assessed by carol\n")
    (record,) = get(people.kube, ns, "chat")["status"]["assessments"]
    assert record["assessor"] == "carol"
    assert record["status"] == "completed"
    assert (record["reference"], record["sha256"], record["residualRisk"]) == (
        "https://docs.example.com/fria",
        SHA,
        "medium",
    )
    assert _close_to_now(record["completedAt"])
    assert _close_to_now(record["expiresAt"], timedelta(days=365))


def test_assess_file_computes_the_digest(people: People, governed_namespace: str, tmp_path: Path) -> None:
    document = tmp_path / "fria.pdf"
    document.write_bytes(b"%PDF-1.7 fundamental rights impact assessment\n")
    apply(people.kube, system("chat"), namespace=governed_namespace)
    result = run(
        people.carol, governed_namespace, "assess", "chat", "--file", str(document), "--expires", "365d",
        "--residual-risk", "low",
    )  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    record = get(people.kube, governed_namespace, "chat")["status"]["assessments"][-1]
    assert record["sha256"] == hashlib.sha256(document.read_bytes()).hexdigest()
    assert record["reference"] == document.resolve().as_uri()


def test_assess_file_with_another_digest_is_refused(people: People, governed_namespace: str, tmp_path: Path) -> None:
    document = tmp_path / "fria.pdf"
    document.write_bytes(b"v2")
    apply(people.kube, system("chat"), namespace=governed_namespace)
    result = run(
        people.carol, governed_namespace, "assess", "chat", "--file", str(document), "--sha256", "ab" * 32,
        "--reference", "https://docs.example.com/fria", "--expires", "365d", "--residual-risk", "low",
    )  # fmt: skip
    assert result.exit_code == 2
    said = " ".join(result.stderr.replace("│", " ").split())
    assert f"has SHA-256 {hashlib.sha256(b'v2').hexdigest()}, not {'ab' * 32}" in said
    assert "assessments" not in get(people.kube, governed_namespace, "chat").get("status", {})


def test_a_typed_placeholder_digest_warns(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat"), namespace=governed_namespace)
    result = run(
        people.carol, governed_namespace, "assess", "chat", "--reference", "https://d/x", "--sha256",
        "0123456789abcdef" * 4, "--expires", "30d", "--residual-risk", "low",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "--sha256 looks like a placeholder (a sequence of hex digits)" in result.stderr
    assert get(people.kube, governed_namespace, "chat")["status"]["assessments"][-1]["sha256"] == "0123456789abcdef" * 4


def test_rejected_assessment(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat"), namespace=governed_namespace)
    result = run(
        people.carol, governed_namespace, "assess", "chat", "--reference", "https://d/x", "--sha256", SHA,
        "--residual-risk", "high", "--rejected", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert [printed] == get(people.kube, governed_namespace, "chat")["status"]["assessments"]
    assert (printed["status"], printed["assessor"], "expiresAt" in printed) == ("rejected", "carol", False)


def test_assess_by_a_non_assessor_is_refused(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat"), namespace=governed_namespace)
    result = run(
        people.alice, governed_namespace, "assess", "chat", "--reference", "https://d/x", "--sha256", SHA,
        "--expires", "30d", "--residual-risk", "low",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error from server (Forbidden): ")
    assert "AIGOV_NOT_ASSESSOR: alice is not in an assessor group" in result.stderr
    assert "Traceback" not in result.output
    assert "assessments" not in get(people.kube, governed_namespace, "chat").get("status", {})


def test_approvals_append_a_snapshot_of_the_images(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    _assess(people, ns)
    assert _approve(people, ns, "alice") == (0, "aisystem.aigov.io/chat approved as risk-officer by alice\n", "")
    code, out, _ = _approve(people, ns, "bob", "chat", "-o", "yaml")
    assert code == 0
    approvals = get(people.kube, ns, "chat")["status"]["approvals"]
    assert yaml.safe_load(out) == approvals[-1]
    assert [(a["approver"], a["decision"], a["role"]) for a in approvals] == [
        ("alice", "approved", "risk-officer"),
        ("bob", "approved", "risk-officer"),
    ]
    current = spec_hash(AISystemSpec.model_validate(get(people.kube, ns, "chat")["spec"]))
    for entry in approvals:
        assert entry["images"] == [IMAGE]
        assert (entry["specHash"], entry["assessmentSha256"]) == (current, SHA)
        assert entry["justification"] == "reviewed the assessment"
        assert _close_to_now(entry["decidedAt"])
        assert _close_to_now(entry["expiresAt"], timedelta(days=180))


def test_self_approval_is_refused(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat", owner="alice"), namespace=governed_namespace)
    code, out, err = _approve(people, governed_namespace, "alice")
    assert (code, out) == (1, "")
    assert "AIGOV_SELF_APPROVAL: alice is the owner or the assessor" in err
    assert "approvals" not in get(people.kube, governed_namespace, "chat").get("status", {})


def test_approval_by_someone_outside_the_approver_group_is_refused(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat"), namespace=governed_namespace)
    code, _, err = _approve(people, governed_namespace, "mallory")
    assert code == 1
    assert "AIGOV_NOT_APPROVER: mallory is not in an approver group (aigov:approvers)" in err


def test_rbac_refusal_prints_the_api_servers_message(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat"), namespace=governed_namespace)
    code, _, err = _approve(people, governed_namespace, "ivan")
    assert code == 1
    assert err.startswith("Error from server (Forbidden): ")
    assert 'User "ivan" cannot patch resource "aisystems/status" in API group "aigov.io"' in err


def test_revoke_appends_a_revoked_entry(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    result = run(people.bob, ns, "revoke", "chat", "--justification", "changed my mind")
    assert (result.exit_code, result.stderr) == (1, "error: bob has no approval on record to revoke\n")
    assert _approve(people, ns, "bob")[0] == 0
    result = run(people.bob, ns, "revoke", "chat", "--justification", "model retrained")
    assert (result.exit_code, result.stdout) == (0, "aisystem.aigov.io/chat approval revoked by bob\n")
    last = get(people.kube, ns, "chat")["status"]["approvals"][-1]
    assert (last["approver"], last["decision"], last["justification"]) == ("bob", "revoked", "model retrained")


def test_suspend_and_resume(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    result = run(people.alice, ns, "suspend", "chat", "--reason", "bias complaint #12")
    assert (result.exit_code, result.stdout) == (0, "aisystem.aigov.io/chat suspended by alice\n")
    suspension = get(people.kube, ns, "chat")["status"]["suspension"]
    assert (suspension["active"], suspension["suspendedBy"], suspension["reason"]) == (
        True,
        "alice",
        "bias complaint #12",
    )
    assert _close_to_now(suspension["since"])

    again = run(people.bob, ns, "suspend", "chat", "--reason", "again")
    assert again.exit_code == 1
    assert again.stderr.startswith(f"error: already suspended since {suspension['since']} (bias complaint #12)")

    refused = run(people.mallory, ns, "resume", "chat", "--justification", "let me")
    assert refused.exit_code == 1
    assert "AIGOV_NOT_APPROVER: mallory" in refused.stderr
    assert get(people.kube, ns, "chat")["status"]["suspension"]["active"] is True

    resumed = run(people.bob, ns, "resume", "chat", "--justification", "complaint unfounded", "-o", "json")
    assert resumed.exit_code == 0, resumed.output
    suspension = get(people.kube, ns, "chat")["status"]["suspension"]
    assert json.loads(resumed.stdout) == suspension
    assert (suspension["active"], suspension["resumedBy"], suspension["justification"]) == (
        False,
        "bob",
        "complaint unfounded",
    )
    assert suspension["suspendedBy"] == "alice"
    assert _close_to_now(suspension["resumedAt"])

    not_suspended = run(people.bob, ns, "resume", "chat", "--justification", "x")
    assert (not_suspended.exit_code, not_suspended.stderr) == (1, "error: the system is not suspended\n")


def test_a_write_built_from_a_stale_read_loses_nothing(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    with KubeRest.connect(people.alice.kubeconfig) as kube:
        stale = kube.get(aisystems_path(ns, "chat"))
        assert _approve(people, ns, "bob")[0] == 0
        patch = approval_patch(
            stale, approver="alice", now=datetime.now(UTC), role="r", expires_in=timedelta(days=1), justification="j"
        )
        with pytest.raises(ApiError) as refused:
            kube.request("PATCH", aisystems_path(ns, "chat", "status"), body=patch, content_type=JSON_PATCH)
    assert refused.value.status == 409
    assert [a["approver"] for a in get(people.kube, ns, "chat")["status"]["approvals"]] == ["bob"]


def test_concurrent_approvals_are_all_kept(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    approvers = [people.alice, people.bob] * 3
    procs = [
        subprocess.Popen(
            [
                AIGOV,
                "approve",
                "chat",
                "-n",
                ns,
                "--kubeconfig",
                str(user.kubeconfig),
                "--role",
                "r",
                "--expires",
                "1d",
                "--justification",
                f"run {i}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, user in enumerate(approvers)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    approvals = get(people.kube, ns, "chat")["status"]["approvals"]
    assert sorted(a["justification"] for a in approvals) == [f"run {i}" for i in range(6)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "chat", "--role", "r", "--expires", "0d", "--justification", "j"], "must be longer than zero"),
        (["approve", "chat", "--role", "r", "--expires", "tomorrow", "--justification", "j"], "is not a duration"),
        (["approve", "chat", "--role", "r", "--expires", "1d"], "Missing option '--justification'"),
        (["assess", "chat", "--reference", "x", "--sha256", SHA, "--expires", "1d", "--residual-risk", "low"],
         "is not a URI"),
        (["assess", "chat", "--reference", "https://d", "--sha256", "abc", "--expires", "1d", "--residual-risk",
          "low"], "must be 64 hexadecimal digits"),
        (["assess", "chat", "--reference", "https://d", "--sha256", SHA, "--residual-risk", "low"],
         "needs --expires"),
        (["assess", "chat", "--reference", "https://d", "--sha256", SHA, "--expires", "1d", "--residual-risk",
          "none"], "'none' is not one of"),
        (["suspend", "chat"], "Missing option '--reason'"),
        (["assess", "chat", "--expires", "1d", "--residual-risk", "low"], "give the document (--file) or its SHA-256"),
        (["status", "chat", "-A"], "cannot be combined with --all-namespaces"),
        (["status", "-o", "xml"], "'xml' is not one of"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(people: People, args: list[str], message: str) -> None:
    result = run(people.alice, "default", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.replace("│", " ").split())


def test_missing_system_and_unreachable_server_exit_1(people: People, governed_namespace: str, tmp_path: Path) -> None:
    missing = run(people.alice, governed_namespace, "suspend", "nope", "--reason", "r")
    assert (missing.exit_code, missing.stderr) == (
        1,
        'Error from server (NotFound): aisystems.aigov.io "nope" not found\n',
    )
    config = yaml.safe_load(people.alice.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    broken = tmp_path / "kubeconfig"
    broken.write_text(yaml.safe_dump(config))
    result = run(None, None, "status", "--kubeconfig", str(broken))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the API server at https://127.0.0.1:1")
    nothing = run(None, None, "status", "--kubeconfig", str(tmp_path / "absent"))
    assert nothing.exit_code == 1
    assert nothing.stderr.startswith(f"error: kubeconfig {tmp_path / 'absent'} does not exist")


def test_assess_appends_and_keeps_earlier_assessments(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat"), namespace=governed_namespace)
    rejected = run(
        people.carol, governed_namespace, "assess", "chat", "--reference", "https://d/x", "--sha256", SHA,
        "--residual-risk", "high", "--rejected",
    )  # fmt: skip
    assert rejected.exit_code == 0, rejected.output
    _assess(people, governed_namespace)
    entries = get(people.kube, governed_namespace, "chat")["status"]["assessments"]
    assert [(e["assessor"], e["status"]) for e in entries] == [("carol", "rejected"), ("carol", "completed")]


def test_retire_is_an_approvers_record_and_permits_the_delete(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    _assess(people, ns)
    refused = people.kube.kubectl("delete", "aisystem", "chat", "-n", ns, "--wait=false", check=False)
    assert "AIGOV_RECORDS_RETAINED" in refused.stderr
    by_assessor = run(people.carol, ns, "retire", "chat", "--justification", "replaced by chat-v2")
    assert by_assessor.exit_code == 1
    assert "AIGOV_NOT_APPROVER: carol is not in an approver group" in by_assessor.stderr
    result = run(people.bob, ns, "retire", "chat", "--justification", "replaced by chat-v2")
    assert (result.exit_code, result.stdout) == (0, "aisystem.aigov.io/chat retired by bob\n")
    record = get(people.kube, ns, "chat")["status"]["retirement"]
    assert (record["retiredBy"], record["justification"]) == ("bob", "replaced by chat-v2")
    again = run(people.alice, ns, "retire", "chat", "--justification", "again")
    assert again.exit_code == 1
    assert "already retired by bob" in again.output
    people.kube.kubectl("delete", "aisystem", "chat", "-n", ns, "--wait=false")
