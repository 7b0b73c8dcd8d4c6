"""docs/iso42001.md carries the Annex A table generated from aigov.core.controls."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigov.core.controls import CONTROLS
from devkit.docsgen import update

DOC = Path(__file__).resolve().parents[2] / "docs" / "iso42001.md"


def test_the_generated_table_is_current() -> None:
    text = DOC.read_text()
    assert update(text) == text, "run: python -m devkit.docsgen docs/iso42001.md"


def test_every_control_has_a_row_and_an_eu_ai_act_reference() -> None:
    text = DOC.read_text()
    for control in CONTROLS:
        assert f"| {control.id} | {control.title} | {control.eu_ai_act} |" in text
        assert control.eu_ai_act


def test_update_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        update("no markers here")
