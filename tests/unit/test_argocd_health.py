"""docs/argocd-health.lua, run by a real Lua interpreter (lupa) as Argo CD runs it: `obj` in, `hs` out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa
import pytest

from aigov.core.model import Phase

SCRIPT = (Path(__file__).resolve().parents[2] / "docs" / "argocd-health.lua").read_text()
DEGRADED = {Phase.SUSPENDED, Phase.EXPIRED, Phase.PROHIBITED}


def health(obj: dict[str, Any]) -> dict[str, str]:
    lua = lupa.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return {"status": str(result["status"]), "message": str(result["message"])}


def aisystem(phase: str | None = None, generation: int = 1, observed: int | None = 1, **status: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"generation": generation},
    }
    if phase is not None:
        obj["status"] = {"phase": phase, "observedGeneration": observed, **status}
    return obj


@pytest.mark.parametrize("phase", list(Phase))
def test_status_follows_the_phase(phase: Phase) -> None:
    expected = "Healthy" if phase == Phase.APPROVED else "Degraded" if phase in DEGRADED else "Progressing"
    assert health(aisystem(phase.value))["status"] == expected


def test_no_status_yet_is_progressing() -> None:
    assert health(aisystem()) == {
        "status": "Progressing",
        "message": "Waiting for the aigov operator to evaluate this AISystem",
    }


def test_a_spec_the_operator_has_not_evaluated_is_progressing_even_if_approved() -> None:
    result = health(aisystem("Approved", generation=3, observed=2))
    assert result == {"status": "Progressing", "message": "Waiting for the aigov operator to evaluate generation 3"}


def test_the_ready_condition_explains_the_state() -> None:
    conditions = [
        {"type": "Approved", "status": "False", "message": "1 of 2 approvals"},
        {"type": "Ready", "status": "False", "message": "suspended by drift check psi"},
    ]
    assert health(aisystem("Suspended", conditions=conditions)) == {
        "status": "Degraded",
        "message": "Suspended: suspended by drift check psi",
    }
