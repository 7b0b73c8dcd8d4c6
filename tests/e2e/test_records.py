"""Identity-bound governance records: the ValidatingAdmissionPolicy in the real API server, real users."""

from __future__ import annotations

import re
import subprocess

import pytest

from devkit.devcluster import ControlPlane
from tests.e2e.conftest import People
from tests.e2e.objects import (
    OPERATOR,
    OWNER_EMAIL,
    aisystem,
    append_approval,
    append_assessment,
    apply,
    approval,
    approvals,
    assessment,
    checked,
    patch_status,
    when,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("aigov_cluster")]


def refused(result: subprocess.CompletedProcess[str], code: str) -> str:
    """The policy's message, asserting the write was refused (403) with `code`."""
    assert result.returncode != 0, "expected the write to be refused"
    assert "ValidatingAdmissionPolicy 'aigov-record-integrity'" in result.stderr, result.stderr
    assert code in re.findall(r"AIGOV_[A-Z_]+", result.stderr), result.stderr
    return result.stderr


@pytest.fixture
def system(kube: ControlPlane, namespace: str) -> str:
    """A fresh AISystem owned by OWNER_EMAIL."""
    checked(apply(kube, namespace, aisystem("chat")))
    return "chat"


def test_assessor_records_own_assessment(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    checked(append_assessment(kube, namespace, system, assessment("alice"), people.alice))


def test_assessment_by_non_assessor_is_refused(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    result = append_assessment(kube, namespace, system, assessment("bob"), people.bob)
    refused(result, "AIGOV_NOT_ASSESSOR")


def test_assessment_naming_someone_else_is_refused(
    kube: ControlPlane, people: People, namespace: str, system: str
) -> None:
    result = append_assessment(kube, namespace, system, assessment("dora"), people.alice)
    message = refused(result, "AIGOV_ASSESSOR_MISMATCH")
    assert "a new assessments entry names dora but the request comes from alice" in message


def test_approver_records_own_approval(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    checked(append_approval(kube, namespace, system, approval("bob"), people.bob))
    checked(append_approval(kube, namespace, system, approval("carol"), people.carol))
    assert [entry["approver"] for entry in approvals(kube, namespace, system)] == ["bob", "carol"]


def test_approval_naming_someone_else_is_refused(
    kube: ControlPlane, people: People, namespace: str, system: str
) -> None:
    refused(append_approval(kube, namespace, system, approval("carol"), people.bob), "AIGOV_APPROVER_MISMATCH")


def test_approval_by_non_approver_is_refused(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    refused(append_approval(kube, namespace, system, approval("alice"), people.alice), "AIGOV_NOT_APPROVER")


def test_owner_cannot_approve(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    result = append_approval(kube, namespace, system, approval(OWNER_EMAIL), people.owner)
    assert "separation of duties" in refused(result, "AIGOV_SELF_APPROVAL")


def test_assessor_cannot_approve(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    checked(append_assessment(kube, namespace, system, assessment("dora"), people.dora))
    refused(append_approval(kube, namespace, system, approval("dora"), people.dora), "AIGOV_SELF_APPROVAL")


def test_approvals_are_append_only(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    checked(append_approval(kube, namespace, system, approval("bob"), people.bob))
    entry = approvals(kube, namespace, system)[0]
    changed = patch_status(kube, namespace, system, {"approvals": [{**entry, "expiresAt": when(999)}]}, people.bob)
    refused(changed, "AIGOV_RECORD_IMMUTABLE")
    refused(patch_status(kube, namespace, system, {"approvals": []}, people.bob), "AIGOV_RECORD_IMMUTABLE")
    revocation = {"approver": "bob", "decision": "revoked", "decidedAt": when(0), "justification": "changed my mind"}
    checked(append_approval(kube, namespace, system, revocation, people.bob))


def test_operator_fields_are_the_operators(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    message = refused(patch_status(kube, namespace, system, {"phase": "Approved"}, people.bob), "AIGOV_OPERATOR_FIELD")
    assert "phase" in message
    checked(patch_status(kube, namespace, system, {"phase": "AwaitingAssessment"}, people.operator))


def test_operator_never_writes_records(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    result = append_assessment(kube, namespace, system, assessment(OPERATOR), people.operator)
    refused(result, "AIGOV_OPERATOR_FIELD")
    refused(append_approval(kube, namespace, system, approval(OPERATOR), people.operator), "AIGOV_OPERATOR_FIELD")


def test_resume_by_an_approver_only(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    suspension = {"active": True, "since": when(0), "reason": "CheckBreached", "suspendedBy": OPERATOR}
    checked(patch_status(kube, namespace, system, {"suspension": suspension}, people.operator))
    resume = {"active": False, "resumedAt": when(0), "justification": "drift explained"}
    refused(
        patch_status(kube, namespace, system, {"suspension": {**resume, "resumedBy": "eve"}}, people.eve),
        "AIGOV_NOT_APPROVER",
    )
    result = patch_status(kube, namespace, system, {"suspension": {**resume, "resumedBy": "carol"}}, people.bob)
    refused(result, "AIGOV_APPROVER_MISMATCH")
    checked(patch_status(kube, namespace, system, {"suspension": {**resume, "resumedBy": "bob"}}, people.bob))


def test_approver_may_suspend_as_themselves(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    manual = {"active": True, "since": when(0), "reason": "Manual"}
    result = patch_status(kube, namespace, system, {"suspension": {**manual, "suspendedBy": "carol"}}, people.bob)
    refused(result, "AIGOV_APPROVER_MISMATCH")
    checked(patch_status(kube, namespace, system, {"suspension": {**manual, "suspendedBy": "bob"}}, people.bob))
    previous = {"previousReplicas": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "x", "replicas": 9}]}
    refused(patch_status(kube, namespace, system, {"suspension": previous}, people.bob), "AIGOV_OPERATOR_FIELD")


def test_every_broken_rule_is_reported(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    entry = {**assessment("alice"), "riskTier": "minimal"}
    result = patch_status(kube, namespace, system, {"assessments": [entry], "phase": "Approved"}, people.eve)
    codes = set(re.findall(r"AIGOV_[A-Z_]+", result.stderr))
    assert codes == {"AIGOV_OPERATOR_FIELD", "AIGOV_NOT_ASSESSOR", "AIGOV_ASSESSOR_MISMATCH"}, result.stderr


def test_rbac_lets_approvers_patch_status_only(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    def can(*args: str) -> str:
        result = kube.kubectl("auth", "can-i", *args, "-n", namespace, user=people.bob, check=False)
        return result.stdout.strip()

    assert can("patch", "aisystems.aigov.io", "--subresource=status") == "yes"
    assert can("patch", "aisystems.aigov.io") == "no"
    spec = kube.kubectl(
        "patch", "aisystem", system, "-n", namespace, "--type=merge", "-p", '{"spec":{"riskTier":"minimal"}}',
        user=people.bob, check=False,
    )  # fmt: skip
    assert spec.returncode != 0
    assert "forbidden" in spec.stderr.lower()


def suspended_by_operator(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    record = {"active": True, "since": when(0), "reason": "CheckBreached", "suspendedBy": OPERATOR}
    checked(patch_status(kube, namespace, system, {"suspension": record}, people.operator))


@pytest.mark.parametrize(
    "lift",
    [
        {"active": False},
        {"active": False, "resumedAt": "2026-01-01T00:00:00Z", "resumedBy": "bob"},
        None,
    ],
    ids=["active-false", "no-justification", "deleted"],
)
def test_a_suspension_is_lifted_only_with_who_when_and_why(
    kube: ControlPlane, people: People, namespace: str, system: str, lift: dict[str, object] | None
) -> None:
    suspended_by_operator(kube, people, namespace, system)
    refused(patch_status(kube, namespace, system, {"suspension": lift}, people.bob), "AIGOV_RESUME_INCOMPLETE")
    resume = {"active": False, "resumedAt": when(0), "resumedBy": "bob", "justification": "checked"}
    checked(patch_status(kube, namespace, system, {"suspension": resume}, people.bob))


def test_a_role_is_claimed_only_by_its_groups(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    message = refused(
        append_approval(kube, namespace, system, approval("carol", role="risk-officer"), people.carol),
        "AIGOV_ROLE_NOT_GRANTED",
    )
    assert "carol claims role risk-officer" in message and "aigov:risk-officers" in message
    checked(append_approval(kube, namespace, system, approval("carol", role="ml-lead"), people.carol))
    checked(append_approval(kube, namespace, system, approval("bob", role="risk-officer"), people.bob))


def test_a_system_with_records_is_deleted_only_once_retired(
    kube: ControlPlane, people: People, namespace: str, system: str
) -> None:
    checked(apply(kube, namespace, aisystem("empty")))
    checked(kube.kubectl("delete", "aisystem", "empty", "-n", namespace, "--wait=false", check=False))
    checked(append_assessment(kube, namespace, system, assessment("alice"), people.alice))
    result = kube.kubectl("delete", "aisystem", system, "-n", namespace, "--wait=false", check=False)
    assert "kubectl aigov retire chat" in refused(result, "AIGOV_RECORDS_RETAINED")
    # The stage is the spec editor's: it retires the system for admission, but does not make deletion a decision.
    checked(apply(kube, namespace, aisystem(system, lifecycle={"stage": "retired"})))
    result = kube.kubectl("delete", "aisystem", system, "-n", namespace, "--wait=false", check=False)
    refused(result, "AIGOV_RECORDS_RETAINED")
    retirement = {"retiredBy": "bob", "retiredAt": when(0), "justification": "replaced by chat-v2"}
    checked(patch_status(kube, namespace, system, {"retirement": retirement}, people.bob))
    checked(kube.kubectl("delete", "aisystem", system, "-n", namespace, "--wait=false", check=False))


def test_only_an_approver_retires_and_only_once(
    kube: ControlPlane, people: People, namespace: str, system: str
) -> None:
    retirement = {"retiredAt": when(0), "justification": "replaced by chat-v2"}
    for user, name in ((people.alice, "alice"), (people.eve, "eve")):
        result = patch_status(kube, namespace, system, {"retirement": {**retirement, "retiredBy": name}}, user)
        refused(result, "AIGOV_NOT_APPROVER")
    result = patch_status(kube, namespace, system, {"retirement": {**retirement, "retiredBy": "carol"}}, people.bob)
    refused(result, "AIGOV_RETIREMENT_INCOMPLETE")
    empty = {**retirement, "retiredBy": "bob", "justification": ""}
    result = patch_status(kube, namespace, system, {"retirement": empty}, people.bob)
    assert result.returncode != 0 and "retirement.justification" in result.stderr, result.stderr
    checked(patch_status(kube, namespace, system, {"retirement": {**retirement, "retiredBy": "bob"}}, people.bob))
    refused(patch_status(kube, namespace, system, {"retirement": None}, people.carol), "AIGOV_RECORD_IMMUTABLE")
    result = patch_status(kube, namespace, system, {"retirement": {**retirement, "retiredBy": "carol"}}, people.carol)
    refused(result, "AIGOV_RECORD_IMMUTABLE")
    refused(patch_status(kube, namespace, system, {"retirement": None}, people.operator), "AIGOV_OPERATOR_FIELD")


def test_assessments_are_append_only(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    """A second assessor can neither replace nor delete a rejection; appending their own keeps it on record."""
    rejection = {**assessment("alice"), "status": "rejected"}
    checked(append_assessment(kube, namespace, system, rejection, people.alice))
    (entry,) = approvals(kube, namespace, system, "assessments")
    dora = {**assessment("dora"), "riskTier": "minimal"}
    refused(patch_status(kube, namespace, system, {"assessments": [dora]}, people.dora), "AIGOV_RECORD_IMMUTABLE")
    refused(patch_status(kube, namespace, system, {"assessments": []}, people.dora), "AIGOV_RECORD_IMMUTABLE")
    refused(patch_status(kube, namespace, system, {"assessments": None}, people.dora), "AIGOV_RECORD_IMMUTABLE")
    checked(append_assessment(kube, namespace, system, assessment("dora"), people.dora))
    assert [e["assessor"] for e in approvals(kube, namespace, system, "assessments")] == ["alice", "dora"]
    assert approvals(kube, namespace, system, "assessments")[0] == entry


def test_the_legacy_assessment_is_read_only(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    result = patch_status(kube, namespace, system, {"impactAssessment": assessment("alice")}, people.alice)
    assert "append a new entry to status.assessments" in refused(result, "AIGOV_RECORD_IMMUTABLE")


def test_a_new_assessment_names_its_tier(kube: ControlPlane, people: People, namespace: str, system: str) -> None:
    refused(patch_status(kube, namespace, system, {"assessments": [assessment("alice")]}, people.alice),
            "AIGOV_ASSESSMENT_TIER_MISSING")  # fmt: skip
    checked(append_assessment(kube, namespace, system, assessment("alice"), people.alice))
    (entry,) = approvals(kube, namespace, system, "assessments")
    untiered = {k: v for k, v in entry.items() if k != "riskTier"}
    refused(patch_status(kube, namespace, system, {"assessments": [untiered]}, people.alice), "AIGOV_RECORD_IMMUTABLE")


@pytest.mark.parametrize(
    "case",
    [("approvals", when(400)), ("approvals", "2300-01-01T00:00:00Z"), ("assessments", when(400))],
    ids=["approval-400-days", "approval-2300", "assessment-400-days"],
)
def test_expiry_is_bounded_when_written(
    kube: ControlPlane, people: People, namespace: str, system: str, case: tuple[str, str]
) -> None:
    field, expires = case
    if field == "approvals":
        result = append_approval(kube, namespace, system, {**approval("bob"), "expiresAt": expires}, people.bob)
    else:
        result = append_assessment(kube, namespace, system, {**assessment("alice"), "expiresAt": expires}, people.alice)
    message = refused(result, "AIGOV_EXPIRY_TOO_LONG")
    assert "366 days" in message and "shorter --expires" in message
    checked(append_approval(kube, namespace, system, approval("bob", expires_days=300), people.bob))
    checked(append_assessment(kube, namespace, system, assessment("alice", expires_days=300), people.alice))
