"""Drift checks: `for` semantics, missing data, errors, the condition, and one monitoring round of a system."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.clients.prometheus import outcome
from aigov.core.drift import CONDITION, Action, Cause, NoData, QueryError, Result, Sample, condition, evaluate, monitor
from aigov.core.model import AISystem, Check, CheckState, CheckStatus, ConditionStatus, rfc3339

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def check(**fields: Any) -> Check:
    spec = {"name": "psi", "query": "psi", "comparator": ">", "threshold": 0.25} | fields
    return Check.model_validate(spec)


def run(c: Check, *steps: tuple[float, Sample | NoData | QueryError]) -> list[Result]:
    """Evaluate `c` through (seconds after T0, outcome) steps, each from the previous state."""
    results: list[Result] = []
    previous: CheckStatus | None = None
    for seconds, step in steps:
        result = evaluate(c, previous, step, at(seconds))
        results.append(result)
        previous = result.status
    return results


@pytest.mark.parametrize(
    ("comparator", "value", "breaching"),
    [
        (">", 0.3, True),
        (">", 0.25, False),
        (">=", 0.25, True),
        ("<", 0.2, True),
        ("<", 0.25, False),
        ("<=", 0.25, True),
    ],
)
def test_comparators(comparator: str, value: float, breaching: bool) -> None:
    (result,) = run(check(comparator=comparator), (0, Sample(value)))
    assert result.status.state == (CheckState.BREACHED if breaching else CheckState.OK)


def test_value_within_threshold_is_ok() -> None:
    (result,) = run(check(), (0, Sample(0.1)))
    assert result.status == CheckStatus(name="psi", state=CheckState.OK, last_value=0.1, last_evaluated_at=T0)
    assert (result.action, result.fired) == (Action.NONE, False)


def test_breach_without_for_acts_at_once() -> None:
    (result,) = run(check(action="suspend"), (0, Sample(0.4)))
    assert (result.status.state, result.action, result.cause, result.fired) == (
        CheckState.BREACHED,
        Action.SUSPEND,
        Cause.BREACHED,
        True,
    )
    assert result.status.breaching_since == T0


def test_breach_shorter_than_for_does_nothing() -> None:
    results = run(check(**{"for": "30s"}, action="suspend"), (0, Sample(0.4)), (20, Sample(0.5)), (25, Sample(0.1)))
    assert [r.status.state for r in results] == [CheckState.PENDING, CheckState.PENDING, CheckState.OK]
    assert all(r.action == Action.NONE for r in results)
    assert results[1].status.breaching_since == T0
    assert results[2].status.breaching_since is None


def test_sustained_breach_acts_every_round_and_fires_once() -> None:
    c = check(**{"for": "30s"}, action="suspend")
    results = run(c, (0, Sample(0.4)), (30, Sample(0.4)), (60, Sample(0.5)))
    assert [r.status.state for r in results] == [CheckState.PENDING, CheckState.BREACHED, CheckState.BREACHED]
    assert [r.action for r in results] == [Action.NONE, Action.SUSPEND, Action.SUSPEND]
    assert [r.fired for r in results] == [False, True, False]
    assert results[2].status.breaching_since == T0


def test_errors_are_not_breaches_and_do_not_interrupt_one() -> None:
    c = check(**{"for": "30s"}, action="suspend")
    results = run(c, (0, Sample(0.4)), (10, QueryError("down")), (20, QueryError("still down")), (30, Sample(0.4)))
    errored = results[2].status
    assert (errored.state, errored.consecutive_errors, errored.last_error) == (CheckState.ERROR, 2, "still down")
    assert (errored.last_value, errored.breaching_since) == (0.4, T0)
    assert all(r.action == Action.NONE for r in results[:3])
    assert (results[3].action, results[3].fired, results[3].status.consecutive_errors) == (Action.SUSPEND, True, 0)
    assert results[3].status.last_error is None


def test_a_first_error_keeps_nothing_it_never_had() -> None:
    (result,) = run(check(), (0, QueryError("boom")))
    assert result.status == CheckStatus(
        name="psi", state=CheckState.ERROR, last_evaluated_at=T0, consecutive_errors=1, last_error="boom"
    )


def test_ignored_missing_data_shows_but_ends_a_breach() -> None:
    results = run(check(**{"for": "30s"}, onMissingData="ignore"), (0, Sample(0.4)), (10, NoData()), (40, NoData()))
    assert [r.status.state for r in results] == [CheckState.PENDING, CheckState.NO_DATA, CheckState.NO_DATA]
    assert results[2].status.breaching_since is None
    assert results[2].status.last_value == 0.4
    assert all(r.action == Action.NONE for r in results)


@pytest.mark.parametrize(("missing", "action"), [("alert", Action.ALERT), ("suspend", Action.SUSPEND)])
def test_missing_data_held_for_for_acts_per_on_missing_data(missing: str, action: Action) -> None:
    c = check(**{"for": "30s"}, onMissingData=missing, action="alert")
    results = run(c, (0, NoData()), (20, NoData()), (30, NoData()), (40, NoData()))
    assert all(r.status.state == CheckState.NO_DATA for r in results)
    assert [r.action for r in results] == [Action.NONE, Action.NONE, action, action]
    assert [r.fired for r in results] == [False, False, True, False]
    assert results[2].cause == Cause.NO_DATA


def test_a_breach_then_missing_data_is_one_bad_period() -> None:
    c = check(**{"for": "30s"}, action="suspend", onMissingData="suspend")
    results = run(c, (0, Sample(0.4)), (30, Sample(0.4)), (40, NoData()))
    assert results[2].status.breaching_since == T0
    assert (results[2].action, results[2].cause, results[2].fired) == (Action.SUSPEND, Cause.NO_DATA, False)


def test_infinity_compares_and_is_stored_finite() -> None:
    (result,) = run(check(), (0, Sample(math.inf)))
    assert result.status.state == CheckState.BREACHED
    assert result.status.last_value is not None and math.isfinite(result.status.last_value)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, NoData()),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "0.3"]}]}}, Sample(0.3)),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "NaN"]}]}}, NoData()),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1, "+Inf"]}}, Sample(math.inf)),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}}, Sample(2.0)),
    ],
)
def test_prometheus_answers_as_outcomes(answer: dict[str, Any], expected: object) -> None:
    assert outcome(answer) == expected


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"status": "error", "errorType": "bad_data", "error": "parse error"}, "bad_data: parse error"),
        (
            {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "1"]}] * 2}},
            "2 series",
        ),
        ({"status": "success", "data": {"resultType": "matrix", "result": []}}, "matrix"),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "x"]}]}}, "cannot read"),
        ([], "JSON object"),
    ],
)
def test_prometheus_problems_are_query_errors(answer: object, says: str) -> None:
    result = outcome(answer)
    assert isinstance(result, QueryError)
    assert says in result.message


def test_condition_true_when_all_ok_and_keeps_transition_time() -> None:
    c = check()
    ok = run(c, (0, Sample(0.1)))[0].status
    first = condition([(c, ok)], None, 3, T0)
    assert (first.type, first.status, first.reason, first.observed_generation) == (
        CONDITION,
        ConditionStatus.TRUE,
        "ChecksPassing",
        3,
    )
    again = condition([(c, ok)], first, 3, at(60))
    assert again.last_transition_time == T0


def test_condition_reason_is_the_worst_state() -> None:
    a, b = check(name="a"), check(name="b", **{"for": "1m"})
    breached = run(a, (0, Sample(0.9)))[0].status
    pending = run(b, (0, Sample(0.9)))[0].status
    errored = run(b, (0, QueryError("down")))[0].status
    got = condition([(a, breached), (b, errored)], None, None, T0)
    assert (got.status, got.reason) == (ConditionStatus.FALSE, "CheckBreached")
    assert "check a: 0.9 > 0.25" in got.message and "query failed 1 time(s)" in got.message
    assert condition([(b, pending)], None, None, T0).reason == "CheckPending"


def system(checks: list[dict[str, Any]], status: dict[str, Any] | None = None) -> AISystem:
    return AISystem.model_validate(
        {
            "metadata": {"name": "bot", "namespace": "ml", "generation": 2},
            "spec": {"purpose": "p", "riskTier": "high", "monitoring": {"intervalSeconds": 10, "checks": checks}},
            "status": status or {},
        }
    )


PSI = {"name": "psi", "query": "psi", "comparator": ">", "threshold": 0.25, "action": "suspend"}


def test_monitor_writes_states_condition_and_suspends_on_a_held_breach() -> None:
    ready = {"type": "Ready", "status": "True", "reason": "Approved", "lastTransitionTime": rfc3339(T0)}
    result = monitor(system([PSI], {"conditions": [ready]}), {"psi": Sample(0.4)}, T0, "aigov-operator")
    assert result.suspends
    assert result.status["monitoring"]["checks"][0]["state"] == "breached"
    assert [c["type"] for c in result.status["conditions"]] == ["Ready", CONDITION]
    assert result.status["suspension"] == {
        "active": True,
        "since": rfc3339(T0),
        "reason": "CheckBreached",
        "suspendedBy": "aigov-operator",
        "check": "psi",
        "value": 0.4,
        "previousReplicas": [],
        "resumedAt": None,
        "resumedBy": None,
        "justification": None,
    }
    assert [(e.type.value, e.reason) for e in result.events] == [("Warning", "CheckBreached")]


def test_monitor_does_not_suspend_twice_nor_after_a_resume() -> None:
    active = {"suspension": {"active": True, "since": rfc3339(T0), "reason": "Manual"}}
    assert not monitor(system([PSI], active), {"psi": Sample(0.4)}, T0, "op").suspends
    breached = {"name": "psi", "state": "breached", "breachingSince": rfc3339(T0), "lastEvaluatedAt": rfc3339(T0)}
    resumed = {
        "monitoring": {"checks": [breached]},
        "suspensionHistory": [{"active": False, "since": rfc3339(T0), "resumedAt": rfc3339(at(30))}],
    }
    result = monitor(system([PSI], resumed), {"psi": Sample(0.4)}, at(60), "op")
    assert not result.suspends
    assert "suspension" not in result.status


def test_monitor_alert_action_and_recovery_events() -> None:
    alert = PSI | {"action": "alert"}
    fired = monitor(system([alert]), {"psi": Sample(0.4)}, T0, "op")
    assert not fired.suspends and "suspension" not in fired.status
    assert [e.reason for e in fired.events] == ["CheckBreached"]
    recovered = monitor(system([alert], fired.status), {"psi": Sample(0.1)}, at(10), "op")
    assert [(e.type.value, e.reason) for e in recovered.events] == [("Normal", "CheckRecovered")]
    assert recovered.status["conditions"][0]["status"] == "True"


def test_monitor_reports_a_first_query_error_once() -> None:
    first = monitor(system([PSI]), {"psi": QueryError("unreachable")}, T0, "op")
    second = monitor(system([PSI], first.status), {"psi": QueryError("unreachable")}, at(10), "op")
    assert [e.reason for e in first.events] == ["CheckQueryFailed"]
    assert second.events == ()
    assert second.status["monitoring"]["checks"][0]["consecutiveErrors"] == 2
    assert not second.suspends


def test_monitor_without_checks_clears_its_state() -> None:
    stale = {
        "monitoring": {"checks": [{"name": "psi", "state": "ok"}]},
        "conditions": [
            {
                "type": CONDITION,
                "status": "True",
                "reason": "ChecksPassing",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    }
    result = monitor(system([], stale), {}, T0, "op")
    assert result.status == {"monitoring": None, "conditions": None}
