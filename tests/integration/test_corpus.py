"""The detection gate: the hand-labelled corpus (tests/corpus) through the real OPA, as `aigov check` decides it.

Recall on `ai` objects and false positives on `ordinary` ones, ambiguous ones
excluded; `make bench` (bench/detection.py) prints the table and every miss.
"""

from __future__ import annotations

import pytest

from devkit import corpus
from devkit.devcluster import OpaServer


@pytest.fixture(scope="module")
def verdicts(opa: OpaServer) -> list[corpus.Verdict]:
    return corpus.decide(corpus.load(), opa.url)


def test_corpus_is_large_and_diverse_enough() -> None:
    entries = corpus.load()
    ai = [e for e in entries if e.label == "ai"]
    ordinary = [e for e in entries if e.label == "ordinary"]
    sources = {e.project: e.manifest.source for e in entries}
    assert len(ai) >= 150
    assert len(ordinary) >= 150
    assert len({e.project for e in ai}) >= 12
    assert len({e.project for e in ordinary}) >= 10
    assert {e.label for e in entries} == {"ai", "ordinary", "ambiguous"}
    assert all(e.reason.strip() for e in entries), "every label has a reason"
    assert len(sources) == len({e.project for e in entries})


def test_every_ai_object_is_of_a_reviewed_kind(verdicts: list[corpus.Verdict]) -> None:
    """An AI kind missing from the kinds table would be a silent miss (ordinary objects of old API
    groups, such as extensions/v1beta1 DaemonSets, are not reviewed and count as admitted)."""
    unreviewed = [v.entry.ref for v in verdicts if v.entry.label == "ai" and not v.reviewed]
    assert unreviewed == []


def test_recall_and_false_positives_meet_the_targets(verdicts: list[corpus.Verdict]) -> None:
    score = corpus.score(verdicts)
    misses = "\n".join(f"{v.entry.label}: {v.entry.ref} ({v.entry.reason}) {v.evidence}" for v in verdicts if v.miss)
    assert score.recall >= corpus.RECALL_TARGET, f"recall {score.recall:.3f}:\n{misses}"
    assert score.false_positives <= corpus.FALSE_POSITIVE_LIMIT, (
        f"false positives {score.false_positives:.3f}:\n{misses}"
    )


def test_denied_ai_objects_name_their_evidence(verdicts: list[corpus.Verdict]) -> None:
    flagged = [v for v in verdicts if v.flagged]
    assert flagged
    assert all(v.evidence for v in flagged)
