"""Coverage-guided fuzzing (atheris) of the review parser and the input builder.

Whatever the bytes, `review.parse` returns a request or raises
`MalformedReviewError` (the webhook's 400); for a parsed request, resolving the
AISystem it names, naming it in a deny message, building the policy input and
serialising it for OPA never raise. Any other exception is a crash that
libFuzzer reports with the input that caused it.

    python fuzz/fuzz_review.py NEW_UNITS_DIR fuzz/corpus/review -max_total_time=30
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import atheris
import orjson

with atheris.instrument_imports(include=["aigov"]):
    from aigov.core.config import Config
    from aigov.policy import input as policy_input
    from aigov.webhook import review

CONFIG = Config()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def one_input(data: bytes) -> None:
    """Parse `data` as an AdmissionReview; build and serialise the policy input for what parses."""
    try:
        request = review.parse(data)
    except review.MalformedReviewError:
        return
    policy_input.system_ref(request, CONFIG)
    review.subject(request)
    obj = request.get("object")
    if isinstance(obj, dict):
        policy_input.admission_request(obj, "fuzz")
    aisystem = obj if request["kind"]["kind"] == "AISystem" else None
    namespace = policy_input.Namespace(request.get("namespace") or "")
    orjson.dumps(policy_input.build(request, aisystem, namespace, NOW))


def main() -> None:
    """Run libFuzzer over `one_input` with the command-line options it was given."""
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
