"""Pure: the management review report (ISO/IEC 42001 clause 9.3) as one self-contained HTML page.

Rendered from the evidence document alone. Styles and charts are inline; the
page has no scripts, links, images or fonts to fetch, so it opens offline and
never calls out. Every value from the cluster is escaped; URIs are shown as
text, never as links.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

from aigov.core.model import Phase, rfc3339
from aigov.evidence.charts import color_map, stacked_bars, stacked_columns
from aigov.evidence.document import STATUSES

TIERS = ("prohibited", "high", "limited", "minimal")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
"""The page's Content-Security-Policy: nothing may be fetched, even if a value slipped through unescaped."""
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
_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #0f172a; background: #f1f5f9; }
header { background: #0f172a; color: #f8fafc; padding: 28px 40px 22px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header p { margin: 2px 0; color: #cbd5e1; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
section { background: #fff; border-radius: 10px; padding: 20px 24px; margin: 0 0 20px;
  box-shadow: 0 1px 2px rgba(15,23,42,.08); }
h2 { margin: 0 0 4px; font-size: 19px; }
h2 + p.sub { margin: 0 0 14px; color: #64748b; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.kpi { border: 1px solid #e2e8f0; border-radius: 8px; padding: 12px 14px; }
.kpi b { display: block; font-size: 28px; line-height: 1.2; }
.kpi span { color: #64748b; font-size: 13px; }
.kpi.bad b { color: #dc2626; } .kpi.warn b { color: #d97706; } .kpi.good b { color: #059669; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
th { background: #f8fafc; color: #334155; font-weight: 600; }
td.num, th.num { text-align: right; }
code { font-size: 12px; word-break: break-all; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; color: #fff; }
.muted { color: #64748b; }
.grid td.cell { width: 22px; min-width: 22px; padding: 0; border: 2px solid #fff; }
.grid th.sys { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; align-items: start; }
footer { color: #64748b; font-size: 12px; text-align: center; padding: 0 0 32px; }
@media print { body { background: #fff; } section { box-shadow: none; break-inside: avoid; } }
"""


_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
_FETCHING_TAGS = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "image", "use"}
_FETCHING_ATTRS = re.compile(r"\b(src|href|srcset|action|poster|data)\s*=|url\(|@import", re.IGNORECASE)


def fetching_tags(html: str) -> list[str]:
    """Every tag in `html` that could make a browser fetch something (the report must have none)."""
    return [
        match.group(0)
        for match in _TAG.finditer(html)
        if match.group(1).lower() in _FETCHING_TAGS or _FETCHING_ATTRS.search(match.group(2))
    ] + (["<style> with url() or @import"] if re.search(r"url\(|@import", _CSS) else [])


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pill(text: str, color: str) -> str:
    return f'<span class="pill" style="background:{color}">{_e(text)}</span>'


def _section(anchor: str, title: str, subtitle: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2><p class="sub">{_e(subtitle)}</p>{body}</section>'


def _day(value: str | None) -> str:
    return _e(value[:16].replace("T", " ")) if value else '<span class="muted">-</span>'


def _systems(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    systems: list[Mapping[str, Any]] = document["systems"]
    return systems


def _summary(document: Mapping[str, Any]) -> str:
    systems = _systems(document)
    phases = Counter(s["phase"] or NO_PHASE for s in systems)
    waiting = phases[Phase.AWAITING_ASSESSMENT.value] + phases[Phase.AWAITING_APPROVAL.value]
    expired = sum(1 for r in document["expiring"] if r["expired"])
    soon = len(document["expiring"]) - expired
    admissions = document["admissionDecisions"]
    denied = sum(c["count"] for c in admissions["byCode"] if c["decision"] == "denied") if admissions else None
    kpis = [
        ("", len(systems), "AI systems in scope"),
        ("good", phases[Phase.APPROVED.value], "approved"),
        ("warn" if waiting else "", waiting, "awaiting assessment or approval"),
        ("bad" if phases[Phase.SUSPENDED.value] else "", phases[Phase.SUSPENDED.value], "suspended"),
        ("bad" if expired else "", expired, "records expired"),
        ("warn" if soon else "", soon, f"records expiring within {document['expiringWithin']}"),
        ("bad" if denied else "", "n/a" if denied is None else denied, "admissions denied in the period"),
    ]
    cards = "".join(f'<div class="kpi {cls}"><b>{_e(v)}</b><span>{_e(label)}</span></div>' for cls, v, label in kpis)
    return _section(
        "summary",
        "Summary",
        "Clause 9.3.2: information on the AI management system's performance.",
        f'<div class="kpis">{cards}</div>',
    )


def _inventory(document: Mapping[str, Any]) -> str:
    systems = _systems(document)
    counts: dict[str, Counter[str]] = {tier: Counter() for tier in TIERS}
    for s in systems:
        counts.setdefault(str(s["riskTier"]), Counter())[s["phase"] or NO_PHASE] += 1
    present = [p for p in PHASE_COLORS if any(c[p] for c in counts.values())]
    colors = {p: PHASE_COLORS[p] for p in present}
    chart = stacked_bars("AI systems by risk tier and phase", [(t, dict(c)) for t, c in counts.items()], colors, 540)
    rows = [[_e(t), *(str(c[p]) for p in present), str(sum(c.values()))] for t, c in counts.items()]
    table = _table(["risk tier", *present, "total"], rows, numeric=range(1, len(present) + 2))
    return _section(
        "inventory",
        "Inventory by risk tier and phase",
        "EU AI Act risk tiers; phases as computed by the aigov operator (A.4.2 resource documentation).",
        f'<div class="cols"><div>{chart}</div><div>{table}</div></div>',
    )


def _expiring(document: Mapping[str, Any]) -> str:
    rows = [
        [
            _e(r["system"]),
            _e(r["record"]),
            _e(r["by"]),
            _day(r["expiresAt"]),
            _pill("expired", "#dc2626") if r["expired"] else _pill("expiring", "#d97706"),
        ]
        for r in document["expiring"]
    ]
    body = _table(["system", "record", "by", "expires (UTC)", "state"], rows) if rows else '<p class="muted">None.</p>'
    return _section(
        "expiring",
        "Expiring records",
        f"Impact assessments and approvals expired or expiring within {document['expiringWithin']} "
        "(clause 8.4, A.5.3): renew them with kubectl aigov assess / approve.",
        body,
    )


def _suspensions(document: Mapping[str, Any]) -> str:
    rows = []
    for s in _systems(document):
        for record in [*s["suspensionHistory"], *([s["suspension"]] if s["suspension"] else [])]:
            cause = record.get("suspendedBy") or (f"check {record['check']}" if record.get("check") else "-")
            state = _pill("active", "#dc2626") if record.get("active") else _pill("resumed", "#059669")
            resumed = (
                f"{_day(record.get('resumedAt'))} {_e(record.get('resumedBy') or '')}"
                if record.get("resumedAt")
                else "-"
            )
            rows.append(
                [
                    _e(f"{s['namespace']}/{s['name']}"),
                    state,
                    _day(record.get("since")),
                    _e(cause),
                    _e(record.get("reason") or ""),
                    resumed,
                    _e(record.get("justification") or ""),
                ]
            )
    body = (
        _table(["system", "state", "since (UTC)", "by", "reason", "resumed", "justification"], rows)
        if rows
        else '<p class="muted">No suspensions recorded.</p>'
    )
    return _section(
        "suspensions",
        "Suspensions",
        "Stop procedures (EU AI Act Art. 14(4)(e), Art. 26(5); A.6.2.6), automatic on drift or by an approver.",
        body,
    )


def _buckets(period: Mapping[str, str], step: int) -> list[str]:
    """The end of every interval of the period, as the range query returned them (RFC 3339)."""
    start, end = (datetime.fromisoformat(period[k]) for k in ("start", "end"))
    count = int((end - start).total_seconds() // step)
    return [rfc3339(start + timedelta(seconds=step * k)) for k in range(1, count + 1)]


def _denials(document: Mapping[str, Any]) -> str:
    admissions = document["admissionDecisions"]
    if admissions is None:
        body = (
            '<p class="muted">Prometheus was not queried for this export; run '
            "<code>aigov evidence export --prometheus URL</code> to include admission decisions.</p>"
        )
        return _section(
            "denials", "Admission denials by code", "Monitoring and measurement results (clause 9.1).", body
        )
    series = admissions["deniedOverTime"]
    step = admissions["stepSeconds"]
    values = {(s["code"] or "(none)", t): v for s in series for t, v in s["points"]}
    colors = color_map(sorted({code for code, _ in values}))
    label = "%m-%d" if step >= 86400 else "%m-%d %H:%M" if step >= 3600 else "%H:%M"
    columns = [
        (datetime.fromisoformat(t).strftime(label), {code: values.get((code, t), 0) for code in colors})
        for t in _buckets(document["period"], step)
    ]
    title = "Denied admissions per interval, by violation code"
    chart = stacked_columns(title, columns, colors, 1100) if values else ""
    counts = sorted(admissions["byCode"], key=lambda c: (-c["count"], c["decision"], c["code"]))
    table = _table(
        ["decision", "violation code", "count"],
        [[_e(c["decision"]), f"<code>{_e(c['code'] or '-')}</code>", str(c["count"])] for c in counts],
        numeric=[2],
    )
    empty = '<p class="muted">No admission decisions recorded in the period.</p>'
    return _section(
        "denials",
        "Admission denials by code",
        f"From {admissions['source']} (Prometheus increase(), an estimate) for the period; monitoring and "
        "measurement results (clause 9.1, A.6.2.8).",
        f"{chart or empty}{table if counts else ''}",
    )


def _controls(document: Mapping[str, Any]) -> str:
    systems = _systems(document)
    status_of = [{c["id"]: c["status"] for c in s["controls"]} for s in systems]
    by_objective: dict[str, Counter[str]] = {}
    for control in document["controls"]:
        tally = by_objective.setdefault(control["objective"], Counter())
        for claims in status_of:
            tally[claims.get(control["id"], "notAddressed")] += 1
    chart = stacked_bars(
        "Control coverage by Annex A objective (controls x systems)",
        [(objective, dict(tally)) for objective, tally in by_objective.items()],
        {s: STATUS_COLORS[s] for s in STATUSES},
        1100,
    )
    roles = {"enforced": "#0f766e", "evidenced": "#2563eb", "people": "#94a3b8"}
    heads = "".join(f'<th class="sys">{_e(s["namespace"])}/{_e(s["name"])}</th>' for s in systems)
    rows = []
    for control in document["controls"]:
        cells = "".join(
            f'<td class="cell" style="background:{STATUS_COLORS[st]}" title="{_e(s["name"])}: {_e(st)}"></td>'
            for s, st in (
                (s, claims.get(control["id"], "notAddressed")) for s, claims in zip(systems, status_of, strict=True)
            )
        )
        rows.append(
            f"<tr><td><b>{_e(control['id'])}</b></td><td>{_e(control['title'])}</td>"
            f"<td>{_pill(control['aigov'], roles[control['aigov']])}</td>"
            f'<td class="muted">{_e(control["euAiAct"])}</td>{cells}</tr>'
        )
    grid = (
        f'<table class="grid"><thead><tr><th>control</th><th>title</th>'
        f"<th>aigov</th><th>EU AI Act</th>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return _section(
        "controls",
        "Control coverage",
        "Statement of Applicability view (clause 6.1.3): each system's claimed status per Annex A control, and "
        "whether aigov enforces or evidences the control itself or leaves it to people.",
        chart + grid,
    )


def _inventory_table(document: Mapping[str, Any]) -> str:
    rows = []
    for s in _systems(document):
        g = s["governance"]
        assessment = g["assessment"]
        assessed = "-"
        if assessment:
            assessed = f"{_e(assessment['assessor'])}, until {_day(assessment.get('expiresAt'))}"
            assessed += f"<br><code>{_e(assessment.get('reference') or '')}</code>"
        valid = sum(1 for a in g["approvals"] if a["valid"])
        phase = s["phase"] or NO_PHASE
        rows.append(
            [
                f"<b>{_e(s['name'])}</b><br><span class='muted'>{_e(s['namespace'])}</span>",
                _e(s["riskTier"]),
                _pill(phase, PHASE_COLORS.get(phase, "#64748b")),
                _e(g["owner"] or "-"),
                assessed,
                f"{valid} / {g['required']['approvals']}",
                str(len(s["boundWorkloads"]) or len(s["labelledWorkloads"])),
                _day(g["nextExpiry"]),
            ]
        )
    body = _table(["system", "tier", "phase", "owner", "assessed", "approvals", "workloads", "next expiry"], rows)
    return _section(
        "systems", "AI systems", "Every AISystem in scope with its governance records.", body if rows else ""
    )


def _not_ai(document: Mapping[str, Any]) -> str:
    rows = [
        (f"{d['kind']} {d['namespace']}/{d['name']}", d["reason"] or "(no reason: ignored, treated as AI)")
        for d in document.get("notAiDeclarations", [])
    ]
    body = _table(["workload", "reason"], rows) if rows else "<p>None.</p>"
    subtitle = "Workloads labelled not AI: admission ignores the detection signals and strict namespaces for them."
    return _section("not-ai", "Declared not AI", subtitle, body)


def _notes(document: Mapping[str, Any]) -> str:
    bundle = document["policyBundle"]
    warnings = "".join(f"<li>{_e(w)}</li>" for w in document["warnings"])
    items = [
        f"Admission policy bundle {_e(bundle.get('version'))}, sha256 <code>{_e(bundle.get('sha256'))}</code>.",
        "Every file of this pack is listed with its SHA-256 in <code>manifest.json</code>; "
        "<code>aigov evidence verify DIR</code> checks them.",
        "Machine-readable evidence: <code>evidence.json</code>; Statement of Applicability: <code>soa.csv</code>.",
    ]
    body = "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
    if warnings:
        body += f"<p><b>Collection warnings</b></p><ul>{warnings}</ul>"
    return _section("about", "About this evidence", "How the pack was produced and how to check it.", body)


def render_report(document: Mapping[str, Any]) -> str:
    """The whole report page."""
    scope = document["scope"]["namespaces"]
    where = "all namespaces" if scope is None else "namespaces " + ", ".join(scope)
    period = document["period"]
    header = (
        "<header><h1>AI management review</h1>"
        "<p>ISO/IEC 42001:2023 clause 9.3: input to the management review, from the cluster's governance records</p>"
        f"<p>{_e(document['cluster']['server'])} · {_e(where)} · period {_day(period['start'])} to "
        f"{_day(period['end'])} UTC · generated {_day(document['generatedAt'])} UTC by aigov "
        f"{_e(document['generator']['version'])}</p></header>"
    )
    sections = [
        _summary(document),
        _inventory(document),
        _expiring(document),
        _suspensions(document),
        _denials(document),
        _controls(document),
        _inventory_table(document),
        _not_ai(document),
        _notes(document),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>AI management review · {_e(document['generatedAt'][:10])}</title><style>{_CSS}</style></head>"
        f"<body>{header}<main>{''.join(sections)}</main>"
        "<footer>Generated by aigov from Kubernetes governance records. Control titles are paraphrases of "
        "ISO/IEC 42001:2023 Annex A; EU AI Act references are indicative.</footer></body></html>\n"
    )
