"""The operator's gauges from an AISystem's stored state, and their exposition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from aigov.core.config import Config
from aigov.core.model import AISystem, rfc3339
from aigov.operator.gauges import sample, suspension_reason
from aigov.telemetry.metrics import CheckSample, GovernanceCollector, SystemSample

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def at(days: float) -> str:
    return rfc3339(NOW + timedelta(days=days))


def approval(who: str, expires_in: float, role: str | None = None) -> dict[str, Any]:
    entry = {"approver": who, "decision": "approved", "decidedAt": at(-5), "expiresAt": at(expires_in)}
    return entry | ({"role": role} if role else {})


def system(tier: str = "high", **status: Any) -> AISystem:
    checks = [{"name": "psi", "query": "q", "comparator": ">", "threshold": 1}]
    return AISystem.model_validate(
        {
            "metadata": {"name": "bot", "namespace": "ml"},
            "spec": {"purpose": "p", "riskTier": tier, "monitoring": {"checks": checks}},
            "status": status,
        }
    )


def test_approvals_expire_when_they_stop_sufficing_not_at_the_first_expiry() -> None:
    approvals = [approval("a", 10, "risk-officer"), approval("b", 20), approval("c", 30)]
    assessment = {"status": "completed", "assessor": "x", "completedAt": at(-1), "expiresAt": at(100)}
    got = sample(system(approvals=approvals, impactAssessment=assessment), Config(), NOW)
    # high tier: two approvals including a risk-officer; without a's (day 10) the role is missing.
    assert dict(got.expiries) == {
        "assessment": (NOW + timedelta(days=100)).timestamp(),
        "approval": (NOW + timedelta(days=10)).timestamp(),
    }


def test_expired_approvals_report_a_past_expiry_missing_ones_none() -> None:
    expired = [approval("a", -3, "risk-officer"), approval("b", -1)]
    assert dict(sample(system(approvals=expired), Config(), NOW).expiries) == {
        "approval": (NOW - timedelta(days=3)).timestamp()
    }
    assert sample(system(approvals=[approval("b", 5)]), Config(), NOW).expiries == ()


def test_checks_phase_workloads_and_suspension() -> None:
    got = sample(
        system(
            phase="Suspended",
            suspension={"active": True},
            boundWorkloads=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}],
            monitoring={
                "checks": [
                    {"name": "psi", "state": "error", "lastValue": 2},
                    {"name": "removed", "state": "ok", "lastValue": 1},
                ]
            },
        ),
        Config(),
        NOW,
    )
    assert (got.phase, got.risk_tier, got.bound_workloads, got.suspended) == ("Suspended", "high", 1, True)
    assert got.checks == (CheckSample("psi", "error", None),)


def test_suspension_reason_labels_are_bounded() -> None:
    assert [suspension_reason(r) for r in ("CheckBreached", "NoData", "AlertFiring", "ann saw drift", None)] == [
        "CheckBreached",
        "NoData",
        "AlertFiring",
        "Manual",
        "Manual",
    ]


def test_collector_exposes_every_family() -> None:
    collector = GovernanceCollector(["Approved", "Suspended"], ["high"], ["ok", "breached"])
    registry = CollectorRegistry()
    registry.register(collector)
    collector.set(
        "ml",
        "bot",
        SystemSample("Suspended", "high", (("assessment", 5.0),), 2, True, (CheckSample("psi", "breached", 0.4),)),
    )
    text = generate_latest(registry).decode()
    for line in (
        'aigov_aisystems{phase="Approved",risk_tier="high"} 0.0',
        'aigov_aisystems{phase="Suspended",risk_tier="high"} 1.0',
        'aigov_aisystem_expiry_timestamp_seconds{aisystem="bot",namespace="ml",record="assessment"} 5.0',
        'aigov_aisystem_bound_workloads{aisystem="bot",namespace="ml"} 2.0',
        'aigov_suspended{aisystem="bot",namespace="ml"} 1.0',
        'aigov_drift_check_value{aisystem="bot",check="psi",namespace="ml"} 0.4',
        'aigov_drift_check_state{aisystem="bot",check="psi",namespace="ml",state="breached"} 1.0',
        'aigov_drift_check_state{aisystem="bot",check="psi",namespace="ml",state="ok"} 0.0',
    ):
        assert line in text
    collector.forget("ml", "bot")
    assert 'aisystem="bot"' not in generate_latest(registry).decode()
