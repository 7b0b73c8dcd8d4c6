"""Pure drift-check evaluation: a check, its previous state and one query outcome in; its new state and action out.

No I/O: each round the operator queries Prometheus (`aigov.clients.prometheus`), calls
`monitor`, which runs `evaluate` for every check of the system, and writes the
round's status patch (check states, the `ChecksPassing` condition, a suspension
request) before emitting its Events. The rules borrow Prometheus alerting `for`
and Argo Rollouts' "errors are not failures":

- A value *breaches* when `value <comparator> threshold`.
- Missing data (no sample) is never healthy: unless `onMissingData: ignore` it
  counts as *bad* like a breach, and its action is `onMissingData`.
- `breachingSince` is the start of the current bad period; a value that does
  not breach, or ignored missing data, ends it.
- ±Inf compares as itself and is stored as the largest finite float (JSON has no infinities).
- A query error is neither good nor bad: it keeps `breachingSince` and the last
  value, counts `consecutiveErrors`, shows `lastError`, and never acts.
- Once a bad period has lasted `for`, every evaluation returns the action
  (level-triggered, like a firing alert); `fired` marks the first one, for Events.
  What the action does, and that a person's resume overrides a bad period that
  began before it, is `aigov.core.suspension`'s business.

States: `ok`; `pending` (breaching for less than `for`); `breached`; `noData`
(missing, ignored or not); `error`.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from aigov.core import suspension
from aigov.core.events import Announcement, EventType
from aigov.core.model import (
    AISystem,
    Check,
    CheckState,
    CheckStatus,
    Comparator,
    Condition,
    ConditionStatus,
    OnMissingData,
    rfc3339,
)

CONDITION = "ChecksPassing"
"""The condition the operator keeps on systems with checks: True when every check is `ok`."""

_COMPARE: dict[Comparator, Callable[[float, float], bool]] = {
    Comparator.GT: operator.gt,
    Comparator.GE: operator.ge,
    Comparator.LT: operator.lt,
    Comparator.LE: operator.le,
}


@dataclass(frozen=True, slots=True)
class Sample:
    """The query returned one value."""

    value: float


@dataclass(frozen=True, slots=True)
class NoData:
    """The query returned nothing (or NaN)."""


@dataclass(frozen=True, slots=True)
class QueryError:
    """The query failed; `message` says why."""

    message: str


Outcome = Sample | NoData | QueryError


class Action(StrEnum):
    """What an evaluation asks the operator to do."""

    NONE = "none"
    ALERT = "alert"
    SUSPEND = "suspend"


class Cause(StrEnum):
    """Why a check acts; the value is the suspension reason and the Event reason."""

    BREACHED = "CheckBreached"
    NO_DATA = "NoData"


@dataclass(frozen=True, slots=True)
class Result:
    """One check's evaluation."""

    status: CheckStatus
    action: Action
    cause: Cause | None
    fired: bool
    """True on the first evaluation that acts in this bad period (the previous one did not)."""


def breaches(check: Check, value: float) -> bool:
    """Whether `value` breaches the check's threshold."""
    return _COMPARE[check.comparator](value, check.threshold)


def evaluate(check: Check, previous: CheckStatus | None, outcome: Outcome, now: datetime) -> Result:
    """The check's new state at `now` after `outcome`, and what to do about it."""
    if isinstance(outcome, QueryError):
        return _error(check, previous, outcome.message, now)
    value = outcome.value if isinstance(outcome, Sample) else None
    missing = value is None
    bad = breaches(check, value) if value is not None else check.on_missing_data != OnMissingData.IGNORE
    last_value = previous.last_value if missing and previous is not None else _storable(value)
    if not bad:
        state = CheckState.NO_DATA if missing else CheckState.OK
        return Result(
            CheckStatus(name=check.name, state=state, last_value=last_value, last_evaluated_at=now),
            Action.NONE,
            None,
            fired=False,
        )
    since = previous.breaching_since if previous is not None and previous.breaching_since is not None else now
    held = now - since >= check.hold
    if missing:
        state, cause, wanted = CheckState.NO_DATA, Cause.NO_DATA, check.on_missing_data.value
    else:
        state = CheckState.BREACHED if held else CheckState.PENDING
        cause, wanted = Cause.BREACHED, check.action.value
    status = CheckStatus(
        name=check.name, state=state, last_value=last_value, last_evaluated_at=now, breaching_since=since
    )
    if not held:
        return Result(status, Action.NONE, None, fired=False)
    return Result(status, Action(wanted), cause, fired=not _acted(check, previous, since))


def _storable(value: float | None) -> float | None:
    """JSON has no infinities: ±Inf is stored as the largest finite float of that sign."""
    return None if value is None else max(min(value, sys.float_info.max), -sys.float_info.max)


def _acted(check: Check, previous: CheckStatus | None, since: datetime) -> bool:
    """Whether the previous evaluation already acted in the bad period that began at `since`."""
    if previous is None or previous.breaching_since != since or previous.last_evaluated_at is None:
        return False
    if previous.state not in (CheckState.BREACHED, CheckState.NO_DATA):
        return False
    return previous.last_evaluated_at - since >= check.hold


def _error(check: Check, previous: CheckStatus | None, message: str, now: datetime) -> Result:
    status = CheckStatus(
        name=check.name,
        state=CheckState.ERROR,
        last_value=previous.last_value if previous else None,
        last_evaluated_at=now,
        breaching_since=previous.breaching_since if previous else None,
        consecutive_errors=(previous.consecutive_errors if previous else 0) + 1,
        last_error=message,
    )
    return Result(status, Action.NONE, None, fired=False)


def describe(check: Check, status: CheckStatus) -> str:
    """One line about a check's state, for Events and the condition message."""
    name = f"check {check.name}"
    if status.state == CheckState.ERROR:
        return f"{name}: query failed {status.consecutive_errors} time(s) in a row: {status.last_error}"
    if status.state == CheckState.NO_DATA:
        since = f" since {rfc3339(status.breaching_since)}" if status.breaching_since else ""
        return f"{name}: the query returned no data{since} (onMissingData: {check.on_missing_data.value})"
    value = f"{status.last_value:g}" if status.last_value is not None else "?"
    rule = f"{value} {check.comparator.value} {check.threshold:g}"
    if status.state == CheckState.OK:
        return f"{name}: {value} is within its threshold ({check.comparator.value} {check.threshold:g} breaches)"
    since = rfc3339(status.breaching_since) if status.breaching_since else "now"
    if status.state == CheckState.PENDING:
        return f"{name}: {rule} since {since}, pending for {check.for_}"
    return f"{name}: {rule} since {since}, held for {check.for_} (action: {check.action.value})"


_REASONS = (
    (CheckState.BREACHED, "CheckBreached"),
    (CheckState.NO_DATA, "CheckNoData"),
    (CheckState.ERROR, "CheckError"),
    (CheckState.PENDING, "CheckPending"),
)


def condition(
    checks: Iterable[tuple[Check, CheckStatus]], previous: Condition | None, generation: int | None, now: datetime
) -> Condition:
    """The `ChecksPassing` condition: True when every check is ok; otherwise the worst state is the reason."""
    pairs = list(checks)
    failing = [(c, s) for c, s in pairs if s.state != CheckState.OK]
    states = {s.state for _, s in failing}
    reason = next((r for state, r in _REASONS if state in states), "ChecksPassing")
    truth = ConditionStatus.FALSE if failing else ConditionStatus.TRUE
    message = "; ".join(describe(c, s) for c, s in failing) or f"all {len(pairs)} check(s) within their thresholds"
    same = previous is not None and previous.status == truth
    return Condition(
        type=CONDITION,
        status=truth,
        reason=reason,
        message=message[:32768],
        last_transition_time=previous.last_transition_time if same and previous else now.replace(microsecond=0),
        observed_generation=generation,
    )


@dataclass(frozen=True, slots=True)
class Round:
    """One monitoring round of an AISystem: the status merge patch, then the Events once it is written."""

    status: dict[str, Any]
    events: tuple[Announcement, ...]
    suspends: bool
    """Whether the patch suspends the system."""


def monitor(system: AISystem, outcomes: Mapping[str, Outcome], now: datetime, by: str) -> Round:
    """Evaluate every check of `system` with its query outcome (by check name); `by` names the suspender.

    A check without an outcome counts as a query error. The first check (in spec
    order) that asks to suspend does so, unless `aigov.core.suspension.request` declines.
    """
    status = system.status
    checks = system.spec.monitoring.checks if system.spec.monitoring else []
    before = {c.name: c for c in (status.monitoring.checks if status.monitoring else [])}
    results = [
        (check, evaluate(check, before.get(check.name), outcomes.get(check.name, _NO_OUTCOME), now)) for check in checks
    ]
    patch: dict[str, Any] = {"monitoring": {"checks": [r.status.to_dict() for _, r in results]} if checks else None}
    previous = next((c for c in status.conditions if c.type == CONDITION), None)
    kept = [c.to_dict() for c in status.conditions if c.type != CONDITION]
    if checks:
        ours = condition(((c, r.status) for c, r in results), previous, system.metadata.generation, now)
        patch["conditions"] = [*kept, ours.to_dict()]
    elif previous is not None:
        patch["conditions"] = kept or None
    events = [event for check, result in results for event in _events(check, before.get(check.name), result)]
    suspends = False
    for check, result in results:
        if result.action != Action.SUSPEND or result.cause is None:
            continue
        value = result.status.last_value if result.cause == Cause.BREACHED else None
        request = suspension.request(
            status,
            now=now,
            reason=result.cause.value,
            by=by,
            check=check.name,
            value=value,
            cause_since=result.status.breaching_since,
        )
        if request is not None:
            patch |= request
            suspends = True
        break
    return Round(patch, tuple(events), suspends)


_NO_OUTCOME = QueryError("the check was not evaluated")


def _events(check: Check, previous: CheckStatus | None, result: Result) -> list[Announcement]:
    status = result.status
    if result.fired:
        return [
            Announcement(EventType.WARNING, str(result.cause), f"{describe(check, status)}; action {result.action}")
        ]
    if status.state == CheckState.ERROR and status.consecutive_errors == 1:
        return [Announcement(EventType.WARNING, "CheckQueryFailed", describe(check, status))]
    was_bad = previous is not None and previous.state in (CheckState.BREACHED, CheckState.NO_DATA)
    if was_bad and status.state == CheckState.OK:
        return [Announcement(EventType.NORMAL, "CheckRecovered", describe(check, status))]
    return []
