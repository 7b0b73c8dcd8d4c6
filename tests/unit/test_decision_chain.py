"""The decision log's hash chain: intact chains verify; a changed, removed, inserted or reordered line is found."""

from __future__ import annotations

from aigov.core.chain import GENESIS_PREV, Chain, Location, digest, verify


def _written(writer: str = "pod-a/webhook/2026-01-01T00:00:00Z/1", count: int = 4) -> list[str]:
    chain = Chain(writer)
    lines: list[str] = []
    for n in range(count):
        lines += chain.lines({"event": "admission", "uid": f"u-{n}"})
    return lines


def _check(lines: list[str]) -> list[str]:
    return verify((Location("decisions.log", n), line) for n, line in enumerate(lines, start=1)).problems


def test_the_first_line_is_the_genesis_and_each_line_chains_to_the_one_before() -> None:
    lines = _written(count=2)
    assert len(lines) == 3
    assert '"chain":{"writer":"pod-a/webhook/2026-01-01T00:00:00Z/1","seq":0,"prev":"' + GENESIS_PREV in lines[0]
    assert '"event":"genesis"' in lines[0]
    assert f'"seq":2,"prev":"{digest(lines[1])}"' in lines[2]


def test_an_intact_chain_with_other_log_lines_and_prefixes_verifies() -> None:
    ours, theirs = _written(), _written("pod-b/operator/2026-01-01T00:00:00Z/7")
    mixed = ["starting up", *(f"2026-01-01T00:00:0{n}Z stdout F {line}" for n, line in enumerate(ours))]
    mixed[3:3] = [f"2026-01-01 INFO aigov.records {line}" for line in theirs]
    verdict = verify((Location("all.log", n), line + "\n") for n, line in enumerate(mixed, start=1))
    assert verdict.problems == []
    assert verdict.lines == len(ours) + len(theirs)
    assert {w: h.seq for w, h in verdict.heads.items()} == {
        "pod-a/webhook/2026-01-01T00:00:00Z/1": 4,
        "pod-b/operator/2026-01-01T00:00:00Z/7": 4,
    }
    assert verdict.heads["pod-a/webhook/2026-01-01T00:00:00Z/1"].sha256 == digest(ours[-1])


def test_a_changed_line_is_found_at_the_next_line() -> None:
    lines = _written()
    lines[2] = lines[2].replace('"u-1"', '"u-X"')
    assert _check(lines) == [
        "decisions.log:4: writer pod-a/webhook/2026-01-01T00:00:00Z/1 seq 3 does not chain to seq 2 "
        "(decisions.log:3): that line was changed, or this one was inserted in its place"
    ]


def test_a_removed_line_is_found() -> None:
    lines = _written()
    del lines[2]
    [problem] = _check(lines)
    assert problem.startswith("decisions.log:3: writer pod-a/webhook/2026-01-01T00:00:00Z/1 seq 3 follows seq 1")
    assert "missing (removed)" in problem


def test_an_inserted_line_is_found() -> None:
    lines = _written()
    forged = Chain("pod-a/webhook/2026-01-01T00:00:00Z/1").lines({"event": "admission", "uid": "forged"})[1]
    lines.insert(3, forged)
    problems = _check(lines)
    assert problems[0].startswith("decisions.log:4: writer pod-a/webhook/2026-01-01T00:00:00Z/1 seq 1 follows seq 2")
    assert "out of order or inserted" in problems[0]


def test_reordered_lines_are_found() -> None:
    lines = _written()
    lines[2], lines[3] = lines[3], lines[2]
    problems = _check(lines)
    assert "decisions.log:3:" in problems[0] and "missing (removed)" in problems[0]
    assert "decisions.log:4:" in problems[1] and "out of order or inserted" in problems[1]


def test_a_chain_without_its_start_or_with_a_cut_line_is_reported() -> None:
    lines = _written()
    assert "starts at seq 2, not at its genesis line" in _check(lines[2:])[0]
    assert _check([lines[0], lines[1][:40]]) == ["decisions.log:2: a chain line that is not valid JSON (cut or edited)"]


def test_a_changed_last_line_shows_only_in_its_head() -> None:
    lines = _written()
    head = verify([(Location("a", 1), line) for line in lines]).heads
    lines[-1] = lines[-1].replace('"u-3"', '"u-X"')
    tampered = verify([(Location("a", 1), line) for line in lines])
    assert tampered.problems == []
    assert tampered.heads.keys() == head.keys()
    assert [h.sha256 for h in tampered.heads.values()] != [h.sha256 for h in head.values()]
