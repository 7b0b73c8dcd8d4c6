"""Detection on the hand-labelled corpus (tests/corpus): recall and false positives per project, and every miss.

Every object goes through a real OPA exactly as `aigov check` decides it, with
no AISystems and the default configuration (devkit.corpus). A miss is an `ai`
object admitted (no signal fired) or an `ordinary` object denied (the evidence
that fired is printed).

    python bench/detection.py [--corpus DIR] [--opa-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from devkit import corpus
from devkit.devcluster import run_opa


@contextlib.contextmanager
def _opa(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="aigov-bench-") as workdir, run_opa(Path(workdir)) as opa:
        yield opa.url


def _row(name: str, score: corpus.Score) -> str:
    recall = f"{score.recall:6.1%} ({score.detected}/{score.ai})" if score.ai else "-"
    fp = f"{score.false_positives:5.1%} ({score.flagged}/{score.ordinary})" if score.ordinary else "-"
    return f"  {name:34} {recall:>18} {fp:>16}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS)
    parser.add_argument("--opa-url")
    args = parser.parse_args()
    entries = corpus.load(args.corpus)
    with _opa(args.opa_url) as url:
        verdicts = corpus.decide(entries, url)
    print(f"  {'project':34} {'recall (ai)':>18} {'false pos.':>16}")
    for project, score in corpus.by_project(verdicts).items():
        print(_row(project, score))
    total = corpus.score(verdicts)
    print(_row("total", total))
    ambiguous = [v for v in verdicts if v.entry.label == "ambiguous"]
    print(f"  ambiguous (not scored): {len(ambiguous)}, {sum(v.flagged for v in ambiguous)} flagged as AI")
    for v in verdicts:
        if v.miss:
            cause = f"denied on: {v.evidence}" if v.flagged else "admitted: no signal"
            print(f"  MISS {v.entry.label:8} {v.entry.ref} [{v.entry.reason}] {cause}")
    met = total.recall >= corpus.RECALL_TARGET and total.false_positives <= corpus.FALSE_POSITIVE_LIMIT
    targets = f"recall >= {corpus.RECALL_TARGET:.0%}, false positives <= {corpus.FALSE_POSITIVE_LIMIT:.0%}"
    print(f"  targets ({targets}): {'met' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
