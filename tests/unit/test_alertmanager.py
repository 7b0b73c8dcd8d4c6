"""Which AISystems an Alertmanager notification (payload v4) names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aigov.core.alertmanager import PayloadError, Target, targets


def alert(status: str = "firing", starts: str = "2026-06-01T12:00:00.123456789Z", **labels: str) -> dict[str, Any]:
    return {"status": status, "labels": {"alertname": "Drift", **labels}, "startsAt": starts}


def payload(*alerts: dict[str, Any], version: object = "4") -> dict[str, Any]:
    return {"version": version, "status": "firing", "receiver": "aigov", "alerts": list(alerts)}


def test_firing_alerts_with_namespace_and_aisystem_name_systems() -> None:
    found = targets(
        payload(
            alert(namespace="ml", aisystem="bot"),
            alert("resolved", namespace="ml", aisystem="other"),
            alert(namespace="ml"),
            alert(aisystem="bot"),
            alert(namespace="", aisystem="bot"),
        )
    )
    assert found == [Target("ml", "bot", "Drift", datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC))]


def test_a_system_named_twice_keeps_the_earliest_alert() -> None:
    later = alert(starts="2026-06-01T13:00:00Z", namespace="ml", aisystem="bot", alertname="Late")
    earlier = alert(starts="2026-06-01T11:00:00Z", namespace="ml", aisystem="bot", alertname="Early")
    undated = alert(starts="garbage", namespace="ml", aisystem="bot", alertname="Undated")
    (found,) = targets(payload(later, undated, earlier))
    assert found.alertname == "Early"


@pytest.mark.parametrize("body", [[], {"version": "4"}, payload(version="3"), payload(version=None)])
def test_other_payloads_are_refused(body: object) -> None:
    with pytest.raises(PayloadError):
        targets(body)
