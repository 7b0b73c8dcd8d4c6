"""The alert rules and the dashboard: every alert unit-tested both ways, every metric one aigov defines."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import Counter
from prometheus_client.metrics import MetricWrapperBase

from aigov.telemetry import metrics
from devkit.chartgen import CHART

RULES = sorted((CHART / "rules").glob("*.yaml"))
TESTS = sorted((CHART / "rules" / "tests").glob("*.yaml"))
REQUIRED_ALERTS = {
    "AigovWebhookDown",
    "AigovWebhookNotReady",
    "AigovPolicyErrors",
    "AigovAdmissionLatencyHigh",
    "AigovUngovernedDenialSpike",
    "AigovSystemSuspended",
    "AigovDriftCheckErroring",
    "AigovRecordExpiringSoon",
    "AigovExpiredSystemHasWorkloads",
    "AigovUngovernedAIRunning",
    "AigovBreakGlassInUse",
    "AigovExceptionExpiringSoon",
    "AigovNonconformityOverdue",
    "AigovNamespaceLeftEnforce",
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alerts() -> set[str]:
    return {rule["alert"] for path in RULES for group in _load(path)["groups"] for rule in group["rules"]}


def test_the_required_alerts_exist() -> None:
    assert alerts() >= REQUIRED_ALERTS


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TESTS:
        for case in _load(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts() - firing == set(), "alerts without a firing test"
    assert alerts() - quiet == set(), "alerts without a not-firing test"


def test_every_test_file_loads_the_rule_files() -> None:
    loaded = {(path.parent / name).resolve() for path in TESTS for name in _load(path)["rule_files"]}
    assert loaded == {path.resolve() for path in RULES}


def defined_metrics() -> set[str]:
    """Every metric family aigov.telemetry.metrics defines: the webhook's, the operator's counters and gauges."""
    names = {
        family.name
        for collector in (metrics.GOVERNANCE, metrics.AUDIT, metrics.EXCEPTIONS, metrics.NONCONFORMITIES)
        for family in collector.collect()
    }
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names.add(f"{family.name}_total" if isinstance(value, Counter) else family.name)
    return names


def used_metrics() -> set[str]:
    text = "".join(path.read_text() for path in RULES) + (CHART / "dashboards" / "aigov.json").read_text()
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in re.findall(r"\baigov_[a-z_]+\b", text)}


def test_rules_and_dashboard_use_only_aigov_metrics() -> None:
    assert used_metrics() - defined_metrics() == set()


def test_dashboard_panels_have_queries_and_unique_ids() -> None:
    dashboard = json.loads((CHART / "dashboards" / "aigov.json").read_text())
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(panel["targets"] and all(t["expr"] for t in panel["targets"]) for panel in panels)


def test_every_alert_links_its_runbook_section() -> None:
    """`runbook_url` (the annotation SRE tooling reads) points at a section of docs/runbooks.md named for the alert."""
    sections = set(re.findall(r"^## (\S+)$", (CHART.parents[1] / "docs" / "runbooks.md").read_text(), re.M))
    for path in RULES:
        for group in _load(path)["groups"]:
            for rule in group["rules"]:
                annotations = rule["annotations"]
                assert "runbook" not in annotations, f"{rule['alert']}: use runbook_url"
                assert annotations["runbook_url"] == f"docs/runbooks.md#{rule['alert'].lower()}"
                assert rule["alert"].lower() in sections, f"docs/runbooks.md has no section for {rule['alert']}"
