"""The tamper-evident decision log: hash-chained JSON lines, one chain per writer process. Pure, no I/O.

Every line is a JSON object with `chain: {writer, seq, prev}`: `seq` counts from
0 (the genesis line) and `prev` is the sha256 of the writer's previous line
exactly as written (the genesis line's `prev` is 64 zeros). `verify` reads lines
of any number of writers, interleaved and with prefixes a log pipeline adds
(a line's JSON starts at its first `{`), and says where a chain was changed,
cut, extended or reordered. It cannot see the last lines of a chain removed or
rewritten: compare the heads it reports with heads recorded elsewhere (the
evidence export records them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

GENESIS_PREV = "0" * 64


def digest(line: str) -> str:
    """The sha256 (hex) of one line as written, without its newline."""
    return hashlib.sha256(line.encode()).hexdigest()


@dataclass
class Chain:
    """One writer's chain: `line()` returns the next line to write (the first call also returns the genesis)."""

    writer: str
    seq: int = -1
    head: str = GENESIS_PREV

    def _link(self, record: Mapping[str, Any]) -> str:
        self.seq += 1
        line = orjson.dumps({"chain": {"writer": self.writer, "seq": self.seq, "prev": self.head}, **record}).decode()
        self.head = digest(line)
        return line

    def lines(self, record: Mapping[str, Any]) -> list[str]:
        """The lines to write for `record`, in order: the genesis line first when the chain is new."""
        genesis = [self._link({"event": "genesis"})] if self.seq < 0 else []
        return [*genesis, self._link(record)]


@dataclass(frozen=True)
class Location:
    """Where a line was read: file name and 1-based line number."""

    source: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class Head:
    """The last line seen of one writer's chain."""

    writer: str
    seq: int
    sha256: str
    where: Location


@dataclass
class Verdict:
    """What `verify` found: the problems (empty when every chain is intact) and each chain's head."""

    problems: list[str] = field(default_factory=list)
    heads: dict[str, Head] = field(default_factory=dict)
    lines: int = 0


def _chained(text: str) -> dict[str, Any] | str | None:
    """The line's JSON object when it carries a chain; None when it is some other log line; a reason when broken."""
    start = text.find("{")
    if start < 0 or '"chain"' not in text:
        return None
    try:
        entry = orjson.loads(text[start:])
    except orjson.JSONDecodeError:
        return "a chain line that is not valid JSON (cut or edited)"
    chain = entry.get("chain") if isinstance(entry, dict) else None
    if not isinstance(chain, dict):
        return None
    writer, seq, prev = chain.get("writer"), chain.get("seq"), chain.get("prev")
    if not (isinstance(writer, str) and isinstance(seq, int) and isinstance(prev, str)):
        return "a chain line without writer, seq and prev"
    return {"chain": {"writer": writer, "seq": seq, "prev": prev}}


def verify(lines: Iterable[tuple[Location, str]]) -> Verdict:
    """Check every writer's chain in `lines` (in the order read); say where each break is."""
    verdict = Verdict()
    for where, raw in lines:
        text = raw.rstrip("\r\n")
        entry = _chained(text)
        if entry is None:
            continue
        verdict.lines += 1
        if isinstance(entry, str):
            verdict.problems.append(f"{where}: {entry}")
            continue
        chain = entry["chain"]
        writer, seq, prev = chain["writer"], chain["seq"], chain["prev"]
        json_text = text[text.find("{") :]
        head = verdict.heads.get(writer)
        if head is None:
            if seq != 0 or prev != GENESIS_PREV:
                verdict.problems.append(
                    f"{where}: writer {writer} starts at seq {seq}, not at its genesis line (seq 0): "
                    "earlier lines were removed or are in another file (give every file)"
                )
        elif seq != head.seq + 1:
            what = "missing (removed)" if seq > head.seq + 1 else "out of order or inserted"
            verdict.problems.append(
                f"{where}: writer {writer} seq {seq} follows seq {head.seq} ({head.where}): lines {what}"
            )
        elif prev != head.sha256:
            verdict.problems.append(
                f"{where}: writer {writer} seq {seq} does not chain to seq {head.seq} ({head.where}): "
                "that line was changed, or this one was inserted in its place"
            )
        verdict.heads[writer] = Head(writer, seq, digest(json_text), where)
    return verdict
