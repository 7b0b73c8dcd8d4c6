"""Pure: the management review report (ISO/IEC 42001 clause 9.3) as one self-contained HTML page.

Rendered from the evidence document alone: Python prepares the view (counts,
rows, colours, chart geometry) and `templates/report.html.j2` writes the page,
escaping every value (Jinja autoescape; no value from the cluster is ever
marked safe). Styles and charts are inline; the page has no scripts, links,
images or fonts to fetch, so it opens offline and never calls out. URIs are
shown as text, never as links.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aigov.core.model import Phase, rfc3339
from aigov.evidence.charts import Chart, color_map, stacked_bars, stacked_columns
from aigov.evidence.document import STATUSES
from aigov.evidence.templating import render

TIERS = ("prohibited", "high", "limited", "minimal")
NO_PHASE = "NotEvaluated"
PHASE_COLORS = {
    Phase.APPROVED.value: "#059669",
    Phase.AWAITING_APPROVAL.value: "#2563eb",
    Phase.AWAITING_ASSESSMENT.value: "#7c3aed",
    Phase.DRAFT.value: "#94a3b8",
    Phase.EXPIRED.value: "#d97706",
    Phase.SUSPENDED.value: "#dc2626",
    Phase.RETIRED.value: "#475569",
    Phase.PROHIBITED.value: "#111827",
    NO_PHASE: "#cbd5e1",
}
STATUS_COLORS = {
    "implemented": "#059669",
    "partial": "#d97706",
    "planned": "#2563eb",
    "notApplicable": "#94a3b8",
    "notAddressed": "#fecaca",
}
ROLE_COLORS = {"enforced": "#0f766e", "evidenced": "#2563eb", "people": "#94a3b8"}

_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_FETCHING_TAGS = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "image", "use"}
_FETCHING_ATTRS = re.compile(r"\b(src|href|srcset|action|poster|data)\s*=|url\(|@import", re.IGNORECASE)


def fetching_tags(html: str) -> list[str]:
    """Every tag in `html` that could make a browser fetch something (the report must have none)."""
    return [
        match.group(0)
        for match in _TAG.finditer(html)
        if match.group(1).lower() in _FETCHING_TAGS or _FETCHING_ATTRS.search(match.group(2))
    ] + ["<style> with url() or @import" for css in _STYLE.findall(html) if re.search(r"url\(|@import", css)]


@dataclass(frozen=True)
class Kpi:
    """One summary figure; `tone` is its CSS class (good, warn, bad or none)."""

    tone: str
    value: int | str
    label: str


@dataclass(frozen=True)
class Inventory:
    """Systems counted by risk tier and phase; `rows` are (tier, count per phase, total)."""

    chart: Chart
    phases: list[str]
    rows: list[tuple[str, list[int], int]]


@dataclass(frozen=True)
class Suspension:
    """One suspension of a system, current or archived."""

    system: str
    active: bool
    since: str | None
    by: str
    reason: str
    resumed_at: str | None
    resumed_by: str
    justification: str


@dataclass(frozen=True)
class Denials:
    """Admission decisions from Prometheus; `chart` is None when nothing was denied or allowed."""

    source: str
    chart: Chart | None
    counts: list[Mapping[str, Any]]


@dataclass(frozen=True)
class ControlRow:
    """One Annex A control and every system's claimed status (system name, status, colour)."""

    control: Mapping[str, Any]
    role_color: str
    cells: list[tuple[str, str, str]]


@dataclass(frozen=True)
class Controls:
    """The coverage chart and the control x system grid."""

    chart: Chart
    systems: list[str]
    rows: list[ControlRow]


@dataclass(frozen=True)
class SystemRow:
    """One AISystem with its governance records."""

    system: Mapping[str, Any]
    phase: str
    phase_color: str
    valid_approvals: int
    workloads: int


def _systems(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    systems: list[Mapping[str, Any]] = document["systems"]
    return systems


def _kpis(document: Mapping[str, Any]) -> list[Kpi]:
    systems = _systems(document)
    phases = Counter(s["phase"] or NO_PHASE for s in systems)
    waiting = phases[Phase.AWAITING_ASSESSMENT.value] + phases[Phase.AWAITING_APPROVAL.value]
    suspended = phases[Phase.SUSPENDED.value]
    expired = sum(1 for r in document["expiring"] if r["expired"])
    soon = len(document["expiring"]) - expired
    admissions = document["admissionDecisions"]
    denied = sum(c["count"] for c in admissions["byCode"] if c["decision"] == "denied") if admissions else None
    return [
        Kpi("", len(systems), "AI systems in scope"),
        Kpi("good", phases[Phase.APPROVED.value], "approved"),
        Kpi("warn" if waiting else "", waiting, "awaiting assessment or approval"),
        Kpi("bad" if suspended else "", suspended, "suspended"),
        Kpi("bad" if expired else "", expired, "records expired"),
        Kpi("warn" if soon else "", soon, f"records expiring within {document['expiringWithin']}"),
        Kpi(
            "bad" if denied is None or denied else "",
            "missing" if denied is None else denied,
            "admissions denied in the period",
        ),
    ]


def _inventory(document: Mapping[str, Any]) -> Inventory:
    counts: dict[str, Counter[str]] = {tier: Counter() for tier in TIERS}
    for s in _systems(document):
        counts.setdefault(str(s["riskTier"]), Counter())[s["phase"] or NO_PHASE] += 1
    present = [p for p in PHASE_COLORS if any(c[p] for c in counts.values())]
    chart = stacked_bars(
        "AI systems by risk tier and phase",
        [(t, dict(c)) for t, c in counts.items()],
        {p: PHASE_COLORS[p] for p in present},
        540,
    )
    return Inventory(chart, present, [(t, [c[p] for p in present], sum(c.values())) for t, c in counts.items()])


def _suspensions(document: Mapping[str, Any]) -> list[Suspension]:
    return [
        Suspension(
            system=f"{s['namespace']}/{s['name']}",
            active=bool(record.get("active")),
            since=record.get("since"),
            by=record.get("suspendedBy") or (f"check {record['check']}" if record.get("check") else "-"),
            reason=record.get("reason") or "",
            resumed_at=record.get("resumedAt"),
            resumed_by=record.get("resumedBy") or "",
            justification=record.get("justification") or "",
        )
        for s in _systems(document)
        for record in [*s["suspensionHistory"], *([s["suspension"]] if s["suspension"] else [])]
    ]


def _buckets(period: Mapping[str, str], step: int) -> list[str]:
    """The end of every interval of the period, as the range query returned them (RFC 3339)."""
    start, end = (datetime.fromisoformat(period[k]) for k in ("start", "end"))
    count = int((end - start).total_seconds() // step)
    return [rfc3339(start + timedelta(seconds=step * k)) for k in range(1, count + 1)]


def _denials(document: Mapping[str, Any]) -> Denials | None:
    admissions = document["admissionDecisions"]
    if admissions is None:
        return None
    step = admissions["stepSeconds"]
    values = {(s["code"] or "(none)", t): v for s in admissions["deniedOverTime"] for t, v in s["points"]}
    colors = color_map(sorted({code for code, _ in values}))
    label = "%m-%d" if step >= 86400 else "%m-%d %H:%M" if step >= 3600 else "%H:%M"
    columns = [
        (datetime.fromisoformat(t).strftime(label), {code: values.get((code, t), 0) for code in colors})
        for t in _buckets(document["period"], step)
    ]
    title = "Denied admissions per interval, by violation code"
    chart = stacked_columns(title, columns, colors, 1100) if values else None
    counts = sorted(admissions["byCode"], key=lambda c: (-c["count"], c["decision"], c["code"]))
    return Denials(admissions["source"], chart, counts)


def _controls(document: Mapping[str, Any]) -> Controls:
    systems = _systems(document)
    status_of = [{c["id"]: c["status"] for c in s["controls"]} for s in systems]
    by_objective: dict[str, Counter[str]] = {}
    rows = []
    for control in document["controls"]:
        statuses = [claims.get(control["id"], "notAddressed") for claims in status_of]
        by_objective.setdefault(control["objective"], Counter()).update(statuses)
        cells = [(s["name"], st, STATUS_COLORS[st]) for s, st in zip(systems, statuses, strict=True)]
        rows.append(ControlRow(control, ROLE_COLORS[control["aigov"]], cells))
    chart = stacked_bars(
        "Control coverage by Annex A objective (controls x systems)",
        [(objective, dict(tally)) for objective, tally in by_objective.items()],
        {s: STATUS_COLORS[s] for s in STATUSES},
        1100,
    )
    return Controls(chart, [f"{s['namespace']}/{s['name']}" for s in systems], rows)


def _system_rows(document: Mapping[str, Any]) -> list[SystemRow]:
    rows = []
    for s in _systems(document):
        g = s["governance"]
        phase = s["phase"] or NO_PHASE
        valid = sum(1 for a in g["approvals"] if a["valid"])
        workloads = len(s["boundWorkloads"]) or len(s["labelledWorkloads"])
        rows.append(SystemRow(s, phase, PHASE_COLORS.get(phase, "#64748b"), valid, workloads))
    return rows


def render_report(document: Mapping[str, Any]) -> str:
    """The whole report page."""
    scope = document["scope"]["namespaces"]
    return render(
        "report.html.j2",
        document=document,
        scope="all namespaces" if scope is None else "namespaces " + ", ".join(scope),
        kpis=_kpis(document),
        inventory=_inventory(document),
        suspensions=_suspensions(document),
        denials=_denials(document),
        controls=_controls(document),
        systems=_system_rows(document),
    )
