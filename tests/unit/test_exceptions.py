"""The state of an AIGovException: computed from its records and the time, at every boundary second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.core import exceptions
from aigov.core.config import PROHIBITED_CODE, ExceptionPolicy
from aigov.core.exceptions import ExceptionState

POLICY = ExceptionPolicy()
CREATED = datetime(2025, 12, 20, tzinfo=UTC)
EXPIRES = datetime(2026, 1, 10, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def exception(records: list[dict[str, Any]], **spec: Any) -> exceptions.AIGovException:
    return exceptions.parse(
        {
            "metadata": {"name": "pilot", "namespace": "ml", "creationTimestamp": "2025-12-20T00:00:00Z"},
            "spec": {
                "system": "chat",
                "codes": ["AIGOV_APPROVAL_MISSING"],
                "justification": "pilot",
                "ticket": "CHG-1",
                "requestedBy": "dave",
                "expiresAt": "2026-01-10T00:00:00Z",
                **spec,
            },
            "status": {"records": records},
        }
    )


def record(action: str, by: str) -> dict[str, Any]:
    return {"action": action, "by": by, "at": "2025-12-21T00:00:00Z"}


APPROVED = exception([record("approved", "alice")])


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (CREATED - SECOND, ExceptionState.PENDING),
        (CREATED, ExceptionState.APPROVED),
        (EXPIRES - SECOND, ExceptionState.APPROVED),
        (EXPIRES, ExceptionState.EXPIRED),
        (EXPIRES + SECOND, ExceptionState.EXPIRED),
    ],
)
def test_approved_exception_at_the_boundaries(at: datetime, expected: ExceptionState) -> None:
    assert exceptions.state(APPROVED, POLICY, at) is expected


def test_unapproved_self_approved_reviewed_only_are_pending() -> None:
    now = CREATED + timedelta(days=1)
    for records in ([], [record("approved", "DAVE")], [record("reviewed", "alice")]):
        assert exceptions.state(exception(records), POLICY, now) is ExceptionState.PENDING


def test_revoked_wins_over_everything() -> None:
    revoked = exception([record("approved", "alice"), record("revoked", "dave")])
    assert exceptions.state(revoked, POLICY, CREATED + timedelta(days=1)) is ExceptionState.REVOKED


def test_expiry_capped_at_the_maximum() -> None:
    long = exception([record("approved", "alice")], expiresAt="2026-03-01T00:00:00Z")
    cap = CREATED + timedelta(days=POLICY.max_days)
    assert exceptions.effective_expiry(long, POLICY) == cap
    assert exceptions.state(long, POLICY, cap - SECOND) is ExceptionState.APPROVED
    assert exceptions.state(long, POLICY, cap) is ExceptionState.EXPIRED


def test_break_glass_needs_no_approval_and_lasts_hours() -> None:
    glass = exception([], breakGlass=True, expiresAt="2026-02-01T00:00:00Z")
    cap = CREATED + timedelta(hours=POLICY.break_glass_hours)
    assert exceptions.state(glass, POLICY, cap - SECOND) is ExceptionState.BREAK_GLASS
    assert exceptions.state(glass, POLICY, cap) is ExceptionState.EXPIRED
    assert exceptions.reviewer(glass) is None
    reviewed = exception([record("reviewed", "alice")], breakGlass=True)
    assert exceptions.reviewer(reviewed) == "alice"


def test_without_creation_time_never_honoured() -> None:
    raw = APPROVED.to_dict()
    del raw["metadata"]["creationTimestamp"]
    assert exceptions.state(exceptions.parse(raw), POLICY, CREATED) is ExceptionState.PENDING


def test_prohibited_is_never_waivable_whatever_the_configuration() -> None:
    policy = ExceptionPolicy.model_validate({"neverWaivable": ["AIGOV_RETIRED"]})
    assert set(policy.never_waivable) == {PROHIBITED_CODE, "AIGOV_RETIRED"}
