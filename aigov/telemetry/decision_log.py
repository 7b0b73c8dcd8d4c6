"""The decision log: governance-relevant events as hash-chained JSON lines (`aigov.core.chain`) on a logger.

One chain per process, named by its writer id (`$POD_NAME` or the host name,
the role and the start time), so a log pipeline that keeps the container's
output keeps every chain whole. The webhook logs each admission decision on
`aigov.decisions`, the operator each governance record change it observes on
`aigov.records`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aigov.core.chain import Chain, Location, Verdict, verify
from aigov.core.model import rfc3339


def writer_id(role: str, started: datetime | None = None) -> str:
    """`<pod or host>/<role>/<start time>/<pid>`: unique per writer process."""
    pod = os.environ.get("POD_NAME") or socket.gethostname()
    return f"{pod}/{role}/{rfc3339(started or datetime.now(UTC))}/{os.getpid()}"


class DecisionLog:
    """Writes records to `logger` as the next lines of this process's chain (thread-safe)."""

    def __init__(self, logger: logging.Logger, role: str) -> None:
        self._logger = logger
        self._role = role
        self._chain: Chain | None = None
        self._lock = threading.Lock()

    def write(self, record: Mapping[str, Any]) -> None:
        """Log `record` as one chained line (after the genesis line on the first call)."""
        with self._lock:
            if self._chain is None:
                self._chain = Chain(writer_id(self._role))
            for line in self._chain.lines(record):
                self._logger.info(line)


def verify_files(paths: Iterable[Path]) -> Verdict:
    """`aigov.core.chain.verify` over the lines of `paths`, read in the order given."""

    def lines() -> Iterator[tuple[Location, str]]:
        for path in paths:
            with path.open(encoding="utf-8", errors="replace") as stream:
                for number, text in enumerate(stream, start=1):
                    yield Location(str(path), number), text

    return verify(lines())


def chain_heads(paths: list[Path]) -> dict[str, Any]:
    """What the evidence pack records of decision-log files: each chain's head, and the breaks found."""
    verdict = verify_files(paths)
    return {
        "files": [str(path) for path in paths],
        "chainedLines": verdict.lines,
        "intact": not verdict.problems,
        "problems": verdict.problems,
        "heads": [
            {"writer": h.writer, "seq": h.seq, "sha256": h.sha256, "where": str(h.where)}
            for h in verdict.heads.values()
        ],
    }
