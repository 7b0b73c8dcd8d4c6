"""The record archive's entries: derived from the AISystem, idempotent, chained, bounded."""

from __future__ import annotations

from typing import Any

from aigov.core.archive import (
    GENESIS,
    MAX_RECORD_BYTES,
    EntryKind,
    by_system,
    missing_tombstone,
    new_entries,
    tombstone,
    verify,
)
from aigov.core.model import rfc3339
from aigov.core.views import archive_timeline, timeline

T0, T1 = "2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z"


def system(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "chat", "namespace": "ml", "uid": "u1", "generation": 1},
        "spec": {"purpose": "answers", "riskTier": "limited"},
        "status": status,
    }


ASSESSMENT = {"status": "completed", "assessor": "alice", "completedAt": T0, "residualRisk": "low"}
APPROVAL = {"approver": "bob", "decision": "approved", "decidedAt": T0}


def kinds(entries: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in entries]


def test_every_record_is_archived_once_with_its_author_and_the_operators_time() -> None:
    first = new_entries(system(impactAssessment=ASSESSMENT, approvals=[APPROVAL]), [], T1)
    assert kinds(first) == ["spec", "assessment", "approval"]
    assert [e.get("by") for e in first] == [None, "alice", "bob"]
    assert {e["observedAt"] for e in first} == {T1}
    assert new_entries(system(impactAssessment=ASSESSMENT, approvals=[APPROVAL]), first, T1) == []


def test_a_changed_record_and_a_reverted_spec_are_new_entries() -> None:
    archived = new_entries(system(impactAssessment=ASSESSMENT), [], T0)
    changed = {**ASSESSMENT, "residualRisk": "high"}
    archived += new_entries(system(impactAssessment=changed), archived, T1)
    assert kinds(archived)[-1] == "assessment"
    edited = system(impactAssessment=changed)
    edited["spec"] = {**edited["spec"], "purpose": "other"}
    archived += new_entries(edited, archived, T1)
    archived += new_entries(system(impactAssessment=changed), archived, T1)
    assert kinds(archived) == ["spec", "assessment", "assessment", "spec", "spec"]
    assert verify(archived) is None


def test_suspension_resume_retirement_and_tombstone() -> None:
    suspension = {"active": False, "since": T0, "reason": "Manual", "suspendedBy": "bob"}
    resumed = {**suspension, "resumedAt": T1, "resumedBy": "carol", "justification": "fixed"}
    archived = new_entries(system(suspension={**suspension, "active": True}), [], T0)
    archived += new_entries(system(suspensionHistory=[resumed]), archived, T1)
    assert kinds(archived) == ["spec", "suspension", "resume"]
    assert archived[-1]["by"] == "carol"
    retirement = {"retiredBy": "bob", "retiredAt": T1, "justification": "gone"}
    retired = system(suspensionHistory=[resumed], retirement=retirement)
    archived += new_entries(retired, archived, T1)
    retired["metadata"] |= {"deletionTimestamp": T1, "generation": 2}
    archived += new_entries(retired, archived, T1, deleted=True)
    assert kinds(archived)[-2:] == ["retirement", "deleted"] and archived[-2]["by"] == "bob"
    assert tombstone(archived) == archived[-1]
    assert new_entries(retired, archived, T1, deleted=True) == []
    assert verify(archived) is None


def test_a_system_found_gone_gets_one_tombstone() -> None:
    archived = new_entries(system(), [], T0)
    (gone,) = missing_tombstone(archived, T1)
    assert (gone["kind"], gone["observedAt"], gone["record"]) == ("deleted", T1, {"foundMissing": True})
    assert verify([*archived, gone]) is None and missing_tombstone([*archived, gone], T1) == []


def test_a_tombstone_holds_no_null_the_api_server_would_prune() -> None:
    """A DELETED event's object may lack deletionTimestamp: a null would be pruned and break the chain."""
    (gone,) = new_entries(system(), new_entries(system(), [], T0), T1, deleted=True)[-1:]
    assert gone["kind"] == "deleted" and None not in gone["record"].values()


def test_the_chain_shows_an_edited_or_removed_entry() -> None:
    archived = new_entries(system(impactAssessment=ASSESSMENT, approvals=[APPROVAL]), [], T0)
    assert archived[0]["previous"] == GENESIS
    edited = [archived[0], {**archived[1], "by": "mallory"}, archived[2]]
    assert verify(edited) == "entry 1 was changed after it was written"
    assert verify([archived[0], archived[2]]) == "entry 1 does not link to the entry before it"


def test_a_record_too_large_is_kept_as_its_hash() -> None:
    big = {**ASSESSMENT, "reference": "x" * MAX_RECORD_BYTES}
    (entry,) = [e for e in new_entries(system(impactAssessment=big), [], T0) if e["kind"] == EntryKind.ASSESSMENT]
    assert entry["record"]["truncated"] is True and entry["record"]["size"] > MAX_RECORD_BYTES
    assert len(entry["recordSha256"]) == 64


def test_parts_are_joined_in_order() -> None:
    entries = new_entries(system(impactAssessment=ASSESSMENT, approvals=[APPROVAL]), [], T0)
    identity = {"namespace": "ml", "name": "chat", "uid": "u1"}
    archives: list[dict[str, Any]] = [
        {"spec": {"system": identity, "part": 2}, "entries": entries[2:]},
        {"spec": {"system": identity}, "entries": entries[:2]},
    ]
    assert by_system(archives) == {("ml", "chat", "u1"): entries}


def test_history_shows_archived_entries_at_their_observation_time() -> None:
    entries = new_entries(system(impactAssessment=ASSESSMENT, approvals=[APPROVAL]), [], T1)
    shown = [(rfc3339(e.time), e.what, e.actor) for e in archive_timeline(entries)]
    assert shown == [(T1, "archived spec", ""), (T1, "archived assessment", "alice"), (T1, "archived approval", "bob")]
    live = system(impactAssessment=ASSESSMENT, approvals=[APPROVAL])
    assert [e.what for e in timeline(live, [], records=False)] == []
    assert [e.what for e in timeline(live, [])] == ["assessment completed", "approved"]
