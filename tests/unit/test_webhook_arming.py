"""`arm_patch`: only the workloads' entries, each guarded by a test of its name."""

from __future__ import annotations

from aigov.webhook.arming import arm_patch


def _vwc(*hooks: tuple[str, str]) -> dict[str, object]:
    return {"webhooks": [{"name": name, "failurePolicy": policy} for name, policy in hooks]}


def test_arms_the_workloads_entries_only() -> None:
    vwc = _vwc(
        ("workloads.aigov.io", "Ignore"), ("strict-workloads.aigov.io", "Ignore"), ("aisystems.aigov.io", "Ignore")
    )
    assert arm_patch(vwc, "Fail") == [
        {"op": "test", "path": "/webhooks/0/name", "value": "workloads.aigov.io"},
        {"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Fail"},
        {"op": "test", "path": "/webhooks/1/name", "value": "strict-workloads.aigov.io"},
        {"op": "replace", "path": "/webhooks/1/failurePolicy", "value": "Fail"},
    ]


def test_nothing_to_do_once_armed_or_without_webhooks() -> None:
    assert arm_patch(_vwc(("workloads.aigov.io", "Fail"), ("aisystems.aigov.io", "Ignore")), "Fail") == []
    assert arm_patch({"webhooks": None}, "Fail") == []
