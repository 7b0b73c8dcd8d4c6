"""The Grafana dashboard (dashboards/aigov.json), built from short panel specifications.

Panels read the metrics of aigov.telemetry.metrics with the job names the chart's
ServiceMonitors give (`aigov-webhook`, `aigov-operator`); `$datasource` picks the
Prometheus, `$namespace` filters the governance panels by AISystem namespace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WEBHOOK = 'job="aigov-webhook"'
NS = 'namespace=~"$namespace"'
_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_WIDTHS = {"stat": 6, "timeseries": 12, "table": 12}
_HEIGHTS = {"stat": 4, "timeseries": 8, "table": 8}


@dataclass(frozen=True)
class Panel:
    """One panel: its kind, title, description, queries as (PromQL, legend) and display unit."""

    kind: str
    title: str
    description: str
    queries: tuple[tuple[str, str], ...]
    unit: str = "short"


def _q(expr: str, legend: str = "") -> tuple[str, str]:
    return (expr, legend)


_quantiles = (
    _q("histogram_quantile(0.5, sum by (le) (rate({metric}_bucket{{{sel}}}[$__rate_interval])))", "p50"),
    _q("histogram_quantile(0.99, sum by (le) (rate({metric}_bucket{{{sel}}}[$__rate_interval])))", "p99"),
)


def _latency(metric: str) -> tuple[tuple[str, str], ...]:
    return tuple((expr.format(metric=metric, sel=WEBHOOK), legend) for expr, legend in _quantiles)


ROWS: tuple[tuple[str, tuple[Panel, ...]], ...] = (
    (
        "Admission",
        (
            Panel("stat", "Webhook replicas up", "Webhook pods Prometheus scrapes.", (_q(f"sum(up{{{WEBHOOK}}})"),)),
            Panel(
                "stat",
                "Policy errors (1h)",
                "Decisions OPA could not give, each denied with AIGOV_POLICY_UNAVAILABLE.",
                (_q(f"sum(increase(aigov_policy_errors_total{{{WEBHOOK}}}[1h]))"),),
            ),
            Panel(
                "stat",
                "AISystems cached",
                "AISystems in the webhook's watch cache.",
                (_q(f"max(aigov_aisystem_cache_size{{{WEBHOOK}}})"),),
            ),
            Panel(
                "stat",
                "Denials (1h)",
                "Requests the webhook denied in the last hour.",
                (_q(f'sum(increase(aigov_admission_requests_total{{{WEBHOOK},decision="denied"}}[1h]))'),),
            ),
            Panel(
                "timeseries",
                "Admission decisions",
                "Admission decisions per second by decision and enforcement mode.",
                (
                    _q(
                        "sum by (decision, mode) "
                        f"(rate(aigov_admission_requests_total{{{WEBHOOK}}}[$__rate_interval]))",
                        "{{decision}} ({{mode}})",
                    ),
                ),
                "reqps",
            ),
            Panel(
                "timeseries",
                "Violations by code",
                "Violation codes per second (denied, warned or audited).",
                (
                    _q(
                        f'sum by (code) (rate(aigov_admission_requests_total{{{WEBHOOK},code!=""}}[$__rate_interval]))',
                        "{{code}}",
                    ),
                ),
                "reqps",
            ),
            Panel(
                "timeseries",
                "Admission latency",
                "Time to answer an AdmissionReview; the API server gives up at the webhook's timeoutSeconds.",
                _latency("aigov_admission_duration_seconds"),
                "s",
            ),
            Panel(
                "timeseries",
                "Policy evaluation latency",
                "Time of one OPA decision, failures included.",
                _latency("aigov_policy_evaluation_duration_seconds"),
                "s",
            ),
            Panel(
                "table",
                "Denials by namespace (24h)",
                "Where workloads were refused, and why.",
                (
                    _q(
                        f"sort_desc(sum by (namespace, code) (increase(aigov_admission_requests_total"
                        f'{{{WEBHOOK},decision="denied"}}[24h])) > 0)'
                    ),
                ),
            ),
        ),
    ),
    (
        "Governance",
        (
            Panel(
                "stat",
                "Suspended systems",
                "AISystems suspended now.",
                (_q(f"sum(aigov_suspended{{{NS}}} == 1) or vector(0)"),),
            ),
            Panel(
                "stat",
                "Records expiring in 14 days",
                "Impact assessments and approvals that expire within 14 days.",
                (
                    _q(
                        f"count((aigov_aisystem_expiry_timestamp_seconds{{{NS}}} - time() < 14 * 86400) "
                        f"and (aigov_aisystem_expiry_timestamp_seconds{{{NS}}} > time())) or vector(0)"
                    ),
                ),
            ),
            Panel(
                "stat",
                "Erroring drift checks",
                "Drift checks whose query fails.",
                (_q(f'count(aigov_drift_check_state{{{NS},state="error"}} == 1) or vector(0)'),),
            ),
            Panel(
                "stat",
                "Suspensions (24h)",
                "Suspensions recorded in the last day.",
                (_q(f"sum(increase(aigov_suspensions_total{{{NS}}}[24h])) or vector(0)"),),
            ),
            Panel(
                "timeseries",
                "AISystems by phase",
                "AISystems per governance phase.",
                (_q("sum by (phase) (aigov_aisystems)", "{{phase}}"),),
            ),
            Panel(
                "timeseries",
                "AISystems by risk tier",
                "AISystems per EU AI Act risk tier.",
                (_q("sum by (risk_tier) (aigov_aisystems)", "{{risk_tier}}"),),
            ),
            Panel(
                "timeseries",
                "Drift check values",
                "The last value of each drift check's query.",
                (_q(f"aigov_drift_check_value{{{NS}}}", "{{namespace}}/{{aisystem}} {{check}}"),),
            ),
            Panel(
                "table",
                "Drift checks not ok",
                "Checks pending, breached, without data or erroring.",
                (_q(f'aigov_drift_check_state{{{NS},state!="ok"}} == 1'),),
            ),
            Panel(
                "table",
                "Suspended systems",
                "Which AISystems are suspended.",
                (_q(f"aigov_suspended{{{NS}}} == 1"),),
            ),
            Panel(
                "table",
                "Record expiry (days)",
                "Days until each impact assessment and approval expires (negative: expired).",
                (_q(f"sort((aigov_aisystem_expiry_timestamp_seconds{{{NS}}} - time()) / 86400)"),),
                "d",
            ),
        ),
    ),
    (
        "Audit: AI systems running without governance",
        (
            Panel(
                "stat",
                "Running workloads admission would deny",
                "Existing workloads failing the audit (kubectl aigov audit -A lists them).",
                (_q(f"sum(aigov_audit_violations{{{NS}}}) or vector(0)"),),
            ),
            Panel(
                "table",
                "Audit violations by namespace, code and kind",
                "The last audit round's failures (AIGOV_UNGOVERNED: shadow AI).",
                (_q(f"sum by (namespace, code, kind) (aigov_audit_violations{{{NS}}}) > 0"),),
            ),
            Panel(
                "table",
                "Unreviewed AI-shaped kinds",
                "Custom kinds embedding pod templates that the webhook does not review, with AI objects found.",
                (_q("aigov_audit_unreviewed_kind_objects"),),
            ),
            Panel(
                "stat",
                "Last audit round (s)",
                "How long the last round took; it must stay well below the interval.",
                (_q("max(aigov_audit_duration_seconds)"),),
                "s",
            ),
        ),
    ),
)


def _target(index: int, expr: str, legend: str, table: bool) -> dict[str, Any]:
    target: dict[str, Any] = {"refId": chr(ord("A") + index), "datasource": _DATASOURCE, "expr": expr}
    if table:
        target |= {"instant": True, "format": "table"}
    else:
        target["legendFormat"] = legend or "__auto"
    return target


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    table = panel.kind == "table"
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": _DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": _WIDTHS[panel.kind], "h": _HEIGHTS[panel.kind]},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "targets": [_target(i, expr, legend, table) for i, (expr, legend) in enumerate(panel.queries)],
    }


def _variables() -> list[dict[str, Any]]:
    return [
        {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"},
        {
            "name": "namespace",
            "label": "AISystem namespace",
            "type": "query",
            "datasource": _DATASOURCE,
            "query": {"query": "label_values(aigov_aisystem_expiry_timestamp_seconds, namespace)", "refId": "ns"},
            "refresh": 2,
            "includeAll": True,
            "multi": True,
            "allValue": ".*",
            "current": {"text": "All", "value": "$__all"},
        },
    ]


def dashboard() -> dict[str, Any]:
    """The dashboard model Grafana imports."""
    panels: list[dict[str, Any]] = []
    y = 0
    for title, row in ROWS:
        panels.append({"id": len(panels) + 1, "type": "row", "title": title, "collapsed": False, "panels": []})
        panels[-1]["gridPos"] = {"x": 0, "y": y, "w": 24, "h": 1}
        y, x, line_height = y + 1, 0, 0
        for panel in row:
            width = _WIDTHS[panel.kind]
            if x + width > 24:
                y, x, line_height = y + line_height, 0, 0
            panels.append(_panel(panel, len(panels) + 1, x, y))
            x, line_height = x + width, max(line_height, _HEIGHTS[panel.kind])
        y += line_height
    return {
        "uid": "aigov",
        "title": "aigov: AI governance",
        "description": "Admission decisions, policy health and the governance state of AISystems (aigov).",
        "tags": ["aigov", "iso42001"],
        "editable": True,
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "timezone": "",
        "templating": {"list": _variables()},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json() -> str:
    """dashboards/aigov.json."""
    return json.dumps(dashboard(), indent=2) + "\n"
