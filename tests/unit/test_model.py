"""The AISystem models: samples round-trip, API-server objects parse, status reads leniently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from aigov.core.config import RiskTier
from aigov.core.controls import ControlId
from aigov.core.model import AISystem, Approval, Check, Phase, parse_duration, rfc3339

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples").glob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_there_are_samples_for_each_tier_that_matters() -> None:
    tiers = {_load(p)["spec"]["riskTier"] for p in SAMPLES}
    assert {"high", "prohibited"} <= tiers
    assert tiers & {"minimal", "limited"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_round_trip(path: Path) -> None:
    raw = _load(path)
    system = AISystem.model_validate(raw)
    assert "namespace" not in raw["metadata"]
    assert system.model_dump(mode="json", by_alias=True, exclude_unset=True) == raw
    assert AISystem.model_validate(system.to_dict()) == system


def test_credit_scoring_sample_is_complete() -> None:
    system = AISystem.model_validate(_load(SAMPLES[0].parent / "credit-scoring.yaml"))
    spec = system.spec
    assert spec.risk_tier == RiskTier.HIGH
    assert spec.images and all("@sha256:" in image for image in spec.images)
    assert spec.models and all(m.digest for m in spec.models)
    assert spec.documentation and spec.documentation.technical_doc_ref
    assert spec.monitoring is not None
    psi = spec.monitoring.checks[0]
    assert (psi.query, psi.threshold, psi.hold, psi.action) == (
        "max(credit_model_psi)",
        0.25,
        timedelta(minutes=2),
        "suspend",
    )
    assert ControlId.A_6_2_5 in {c.id for c in spec.controls}


def test_an_object_from_the_api_server_parses_and_keeps_its_metadata() -> None:
    body = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {
            "name": "bot",
            "namespace": "team-a",
            "generation": 3,
            "uid": "0f6b3c1e",
            "resourceVersion": "812",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kopf.zalando.org/last-handled-configuration": "{}"},
        },
        "spec": {"purpose": "chat", "riskTier": "minimal"},
        "status": {
            "phase": "Approved",
            "somethingNewer": {"x": 1},
            "approvals": [
                {
                    "approver": "alice",
                    "decision": "approved",
                    "decidedAt": "2026-01-02T10:00:00+02:00",
                    "expiresAt": "2026-07-01T00:00:00Z",
                    "role": None,
                }
            ],
        },
    }
    system = AISystem.model_validate(body)
    assert system.metadata.generation == 3
    assert system.metadata.model_extra is not None and "managedFields" in system.metadata.model_extra
    assert system.to_dict()["metadata"]["managedFields"] == [{"manager": "kubectl"}]
    assert system.status.phase == Phase.APPROVED
    assert system.status.approvals[0].decided_at == datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
    assert system.to_dict()["status"]["approvals"][0]["decidedAt"] == "2026-01-02T08:00:00Z"
    assert "somethingNewer" not in system.to_dict()["status"]


def test_derived_status_fields_that_do_not_parse_read_as_empty() -> None:
    system = AISystem.model_validate(
        {
            "spec": {"purpose": "chat", "riskTier": "minimal"},
            "status": {
                "phase": "SomethingOld",
                "conditions": [{"type": "Ready"}],
                "approvedCount": "many",
                "monitoring": {"checks": "bad"},
            },
        }
    )
    assert system.status.phase is None
    assert system.status.conditions == []
    assert system.status.approved_count is None
    assert system.status.monitoring is None


def test_human_records_that_do_not_parse_still_fail() -> None:
    with pytest.raises(ValidationError, match="approvals"):
        AISystem.model_validate(
            {"spec": {"purpose": "p", "riskTier": "high"}, "status": {"approvals": [{"decision": "maybe"}]}}
        )


@pytest.mark.parametrize("tier", ["extreme", "", None])
def test_unknown_tiers_are_rejected(tier: str | None) -> None:
    with pytest.raises(ValidationError, match="riskTier"):
        AISystem.model_validate({"spec": {"purpose": "p", "riskTier": tier}})


def test_unknown_control_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"A\.3\.4"):
        AISystem.model_validate(
            {"spec": {"purpose": "p", "riskTier": "high", "controls": [{"id": "A.3.4", "status": "planned"}]}}
        )


def test_timestamps_serialise_as_rfc3339_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert rfc3339(datetime(2026, 3, 1, 14, 30, tzinfo=plus_two)) == "2026-03-01T12:30:00Z"
    assert rfc3339(datetime(2026, 3, 1, 12, 30, 0, 250000, tzinfo=UTC)) == "2026-03-01T12:30:00.250000Z"
    naive = Approval.model_validate({"approver": "a", "decision": "revoked", "decidedAt": "2026-03-01T12:30:00"})
    assert naive.decided_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("30s", 30), ("2m", 120), ("1h30m", 5400), ("1d", 86400), ("500ms", 0.5), ("1w", 604800)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "5", "2 minutes", "m5", "-1m", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
    with pytest.raises(ValidationError):
        Check.model_validate({"name": "c", "query": "up", "comparator": ">", "threshold": 1, "for": text})


def test_check_defaults_treat_missing_data_as_not_healthy() -> None:
    check = Check.model_validate({"name": "psi", "query": "max(psi)", "comparator": ">", "threshold": 0.25})
    assert (check.for_, check.on_missing_data, check.action) == ("0s", "alert", "alert")
    assert check.to_dict()["for"] == "0s"
