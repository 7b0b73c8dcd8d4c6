"""Placeholder SHA-256s: the same table the Rego tests read (policies/testdata/placeholders.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aigov.core.digests import placeholder

CASES = json.loads((Path(__file__).parents[2] / "policies/testdata/placeholders.json").read_text())["placeholders"][
    "cases"
]


@pytest.mark.parametrize("case", CASES, ids=[case["sha256"][:16] for case in CASES])
def test_placeholder(case: dict[str, str | None]) -> None:
    assert placeholder(str(case["sha256"])) == case["reason"]
