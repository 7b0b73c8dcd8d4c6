"""Nonconformities as data: stable names, phases, overdue, effectiveness counting, gauges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aigov.core.nonconformity import (
    DUE,
    NCPhase,
    Source,
    for_audit,
    for_exception,
    for_suspension,
    nc_name,
    next_effectiveness,
    overdue,
    phase,
)
from aigov.telemetry.metrics import NonconformityCollector, NonconformitySample

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SYSTEM = {"metadata": {"namespace": "lending", "name": "Credit_Scoring"}, "spec": {"riskTier": "high"}}


def _closed(intervals: int = 2, **effectiveness: Any) -> dict[str, Any]:
    nc = for_suspension(SYSTEM, {"since": "2026-06-01T10:00:00Z", "reason": "drift", "check": "psi"}, now=NOW, by="op")
    closure = {"closedBy": "alice", "closedAt": "2026-06-01T12:00:00Z", "rootCause": "r", "action": "a",
               "ticket": "T-1", "effectivenessCheck": {"check": "psi", "intervals": intervals}}  # fmt: skip
    return {**nc, "status": {"closure": closure, **({"effectiveness": effectiveness} if effectiveness else {})}}


def _check(state: str, at: str) -> list[dict[str, Any]]:
    return [{"name": "psi", "state": state, "lastEvaluatedAt": at}, {"name": "other", "state": "breached"}]


def test_names_are_stable_dns_labels_per_cause() -> None:
    first = for_suspension(SYSTEM, {"since": "2026-06-01T10:00:00Z"}, now=NOW, by="op")
    again = for_suspension(SYSTEM, {"since": "2026-06-01T10:00:00Z"}, now=NOW + timedelta(hours=1), by="op")
    other = for_suspension(SYSTEM, {"since": "2026-06-02T10:00:00Z"}, now=NOW, by="op")
    assert first["metadata"]["name"] == again["metadata"]["name"] != other["metadata"]["name"]
    assert first["metadata"]["name"].startswith("suspension-credit-scoring-")
    assert first["spec"]["dueAt"] == "2026-06-16T12:00:00Z" and timedelta(days=15) == DUE
    assert first["spec"]["riskTier"] == "high"
    audit = for_audit("lending", "scorer", "Deployment/api", ["B", "A"], now=NOW, by="aigov-audit", tier=None)
    assert audit["spec"]["summary"] == "Deployment/api is running while scorer may not run (A, B)"
    assert "riskTier" not in audit["spec"]
    exception = for_exception("lending", "scorer", "bg-1", now=NOW, by="erin", reason="outage", tier="high")
    assert exception["metadata"]["name"] == nc_name(Source.EXCEPTION, "scorer", "bg-1")
    assert exception["metadata"]["labels"] == {"aigov.io/system": "scorer", "aigov.io/source": "exception"}


def test_phase_and_overdue() -> None:
    nc = for_suspension(SYSTEM, {"since": "x"}, now=NOW, by="op")
    assert phase(nc) is NCPhase.OPEN
    assert not overdue(nc, NOW + DUE - timedelta(seconds=1))
    assert overdue(nc, NOW + DUE + timedelta(seconds=1))
    assert phase(_closed()) is NCPhase.VERIFYING
    assert not overdue(_closed(), NOW + DUE * 2), "a closed one is never overdue"
    assert phase(_closed(effective=True)) is NCPhase.CLOSED


def test_effectiveness_counts_new_healthy_evaluations_and_restarts_on_a_breach() -> None:
    nc = _closed(intervals=2)
    assert next_effectiveness(nc, _check("ok", "2026-06-01T11:59:00Z"), NOW) is None, "before the closure"
    first = next_effectiveness(nc, _check("ok", "2026-06-01T12:01:00Z"), NOW)
    assert first == {"healthyIntervals": 1, "lastEvaluatedAt": "2026-06-01T12:01:00Z", "effective": False}
    counted = _closed(intervals=2, **first)
    assert next_effectiveness(counted, _check("ok", "2026-06-01T12:01:00Z"), NOW) is None, "counted once"
    breached = next_effectiveness(counted, _check("breached", "2026-06-01T12:02:00Z"), NOW)
    assert breached is not None and (breached["healthyIntervals"], breached["effective"]) == (0, False)
    second = next_effectiveness(counted, _check("ok", "2026-06-01T12:02:00Z"), NOW)
    assert second == {"healthyIntervals": 2, "lastEvaluatedAt": "2026-06-01T12:02:00Z", "effective": True,
                      "effectiveAt": "2026-06-01T12:00:00Z"}  # fmt: skip
    assert next_effectiveness(_closed(intervals=2, **second), _check("ok", "2026-06-01T12:03:00Z"), NOW) is None
    assert next_effectiveness(nc, [], NOW) is None, "a check that never ran counts nothing"


def test_gauges_count_phases_and_overdue_at_scrape_time() -> None:
    clock = [1000.0]
    collector = NonconformityCollector(lambda: clock[0])
    collector.set("a", "x", NonconformitySample("suspension", "Open", 1500.0))
    collector.set("a", "y", NonconformitySample("suspension", "Verifying", 500.0))
    collector.set("b", "z", NonconformitySample("audit", "Open", 500.0))

    def values() -> dict[tuple[str, ...], float]:
        return {(m.name, *m.labels.values()): m.value for f in collector.collect() for m in f.samples}

    assert values()[("aigov_nonconformities_overdue", "b", "audit")] == 1
    assert values()[("aigov_nonconformities_overdue", "a", "suspension")] == 0
    clock[0] = 2000.0
    assert values()[("aigov_nonconformities_overdue", "a", "suspension")] == 1
    assert values()[("aigov_nonconformities", "a", "suspension", "Verifying")] == 1
    collector.forget("a", "x")
    assert values()[("aigov_nonconformities_overdue", "a", "suspension")] == 0
