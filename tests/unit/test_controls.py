"""The Annex A control catalogue: exactly the 38 IDs of ISO/IEC 42001:2023."""

from __future__ import annotations

import pytest

from aigov.core.controls import AUTOMATED, BY_ID, CONTROLS, OBJECTIVES, ControlId, control


def test_there_are_38_controls_one_per_id() -> None:
    assert len(CONTROLS) == 38
    assert [c.id for c in CONTROLS] == list(ControlId)


@pytest.mark.parametrize("invented", ["A.3.4", "A.6.2.9", "A.7.7", "A.8.6", "A.9.5", "A.1.1"])
def test_invented_ids_are_not_controls(invented: str) -> None:
    with pytest.raises(ValueError, match="is not a valid ControlId"):
        control(invented)


def test_objectives_cover_every_control() -> None:
    assert {c.objective for c in CONTROLS} == set(OBJECTIVES)
    assert control("A.10.3").objective == "A.10"
    assert control("A.6.2.5").objective == "A.6.2"
    assert control("A.6.1.3").objective == "A.6.1"


def test_automated_controls_are_the_ones_aigov_evidences() -> None:
    assert {str(c) for c in AUTOMATED} == {
        "A.3.2", "A.4.2", "A.4.4", "A.4.5", "A.5.2", "A.5.3", "A.6.2.5",
        "A.6.2.6", "A.6.2.7", "A.6.2.8", "A.8.2", "A.8.4", "A.9.4", "A.10.3",
    }  # fmt: skip
    assert all(BY_ID[c].automation for c in AUTOMATED)
    assert not control("A.2.2").automated


def test_titles_are_short_and_present() -> None:
    assert all(0 < len(c.title) <= 60 for c in CONTROLS)
