"""`aigov status [NAME]` and `aigov history NAME`: the governance view and timeline, read-only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aigov.cli.kube import (
    AllNamespacesOpt,
    ClusterSession,
    ConfigOpt,
    NamespaceOpt,
    OutputFormat,
    OutputOpt,
    cluster_command,
    cluster_config,
    failures,
    file_config,
    print_data,
    print_fields,
    print_table,
)
from aigov.clients.kube import aisystems_path, events_path
from aigov.core.config import KIND
from aigov.core.views import age, status_row, summary, timeline

_COLUMNS = ("NAME", "TIER", "PHASE", "ASSESSED", "APPROVALS", "SUSPENDED", "WORKLOADS", "NEXT EXPIRY")


def status(
    name: Annotated[str | None, typer.Argument(help="One AISystem (default: all in the namespace).")] = None,
    *,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    output: OutputOpt = OutputFormat.TABLE,
    config_path: ConfigOpt = None,
) -> None:
    """The governance view: tier, phase, assessment, approvals, suspension, workloads, expiry, conditions."""
    if name and all_namespaces:
        raise typer.BadParameter("a NAME cannot be combined with --all-namespaces", param_hint="NAME")
    now = datetime.now(UTC)
    with failures():
        given = file_config(config_path)
    with failures(), session.connect() as (kube, ns):
        config, source = cluster_config(kube, given)
        if name:
            objects = [kube.get(aisystems_path(ns, name))]
        else:
            objects = list(kube.list(aisystems_path(None if all_namespaces else ns)))
    views = [summary(obj, config, now) for obj in objects]
    if output != OutputFormat.TABLE:
        print_data(views[0] if name else views, output)
    elif name:
        _detail(views[0], now, source)
    elif not views:
        typer.echo(f"No AISystems in {'any namespace' if all_namespaces else f'namespace {ns}'}.")
    else:
        headers = ("NAMESPACE", *_COLUMNS) if all_namespaces else _COLUMNS
        rows = [[v["namespace"], *status_row(v, now)] if all_namespaces else status_row(v, now) for v in views]
        print_table(headers, rows)
        typer.echo(f"Configuration: {source}", err=True)


def _when(value: str | None, now: datetime) -> str:
    return f"{value} ({age(datetime.fromisoformat(value), now)})" if value else "-"


def _retired(view: Mapping[str, Any]) -> list[tuple[str, str]]:
    record = view["retirement"]
    if record is None:
        return []
    return [("Retired", f"{record['retiredAt']} by {record['retiredBy']}: {record['justification']}")]


def _detail(view: Mapping[str, Any], now: datetime, source: str) -> None:
    record = view["assessment"]
    assessed = "none recorded"
    if record is not None:
        assessed = f"{record['status']} by {record['assessor']}, residual risk {record.get('residualRisk', '-')}, "
        assessed += f"expires {_when(record.get('expiresAt'), now)}" + ("" if record["valid"] else " [not valid]")
    required = view["required"]
    need = f"{required['approvals']} valid" + (f", roles: {', '.join(required['roles'])}" if required["roles"] else "")
    suspension = view["suspension"]
    suspended = "no"
    if suspension and suspension.get("active"):
        by = suspension.get("suspendedBy") or suspension.get("check") or "?"
        suspended = f"since {_when(suspension.get('since'), now)} by {by}: {suspension.get('reason') or '-'}"
    elif suspension and suspension.get("resumedAt"):
        suspended = f"no (resumed {_when(suspension['resumedAt'], now)} by {suspension.get('resumedBy')})"
    print_fields(
        [
            ("Name", f"{view['namespace']}/{view['name']}"),
            ("Risk tier", view["riskTier"]),
            ("Phase", view["phase"] or "- (not evaluated by the operator yet)"),
            ("Purpose", view["purpose"]),
            ("Owner", view["owner"] or "-"),
            ("Assessment", assessed),
            ("Approvals needed", need),
            ("Suspended", suspended),
            *_retired(view),
            ("Next expiry", _when(view["nextExpiry"], now)),
            ("Configuration", source),
        ]
    )
    if len(view["assessments"]) > 1:
        typer.echo()
        print_table(
            ("ASSESSOR", "STATUS", "TIER", "COMPLETED", "EXPIRES"),
            [
                [e["assessor"], e["status"], e.get("riskTier") or "-", e["completedAt"], _when(e.get("expiresAt"), now)]
                for e in view["assessments"]
            ],
            title="Assessments (append-only; each assessor's last entry counts)",
        )
    if view["approvals"]:
        typer.echo()
        print_table(
            ("APPROVER", "ROLE", "DECISION", "DECIDED", "EXPIRES", "VALID"),
            [
                [
                    a["approver"],
                    a.get("role") or "-",
                    a["decision"],
                    a["decidedAt"],
                    _when(a.get("expiresAt"), now),
                    "yes" if a["valid"] else "no",
                ]
                for a in view["approvals"]
            ],
            title="Approvals (each approver's last decision)",
        )
    if view["boundWorkloads"]:
        typer.echo()
        print_table(
            ("KIND", "NAME", "IMAGES"),
            [[w["kind"], w["name"], ", ".join(w.get("images", []))] for w in view["boundWorkloads"]],
            title="Bound workloads",
        )
    if view["conditions"]:
        typer.echo()
        print_table(
            ("TYPE", "STATUS", "REASON", "MESSAGE"),
            [[c["type"], c["status"], c["reason"], c.get("message", "")] for c in view["conditions"]],
            title="Conditions",
        )


def history(
    name: Annotated[str, typer.Argument(help="The AISystem's name.")],
    *,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """The governance timeline: assessment, approvals, revocations, suspensions, resumes, phases, Events."""
    with failures(), session.connect() as (kube, ns):
        obj = kube.get(aisystems_path(ns, name))
        selector = f"involvedObject.kind={KIND},involvedObject.name={name}"
        events = list(kube.list(events_path(ns), fieldSelector=selector))
    entries = timeline(obj, events)
    if output != OutputFormat.TABLE:
        print_data([e.to_dict() for e in entries], output)
        return
    rows = [[e.to_dict()["time"], e.what, e.actor or "-", e.detail] for e in entries]
    print_table(("TIME", "WHAT", "WHO", "DETAIL"), rows)


def register(app: typer.Typer) -> None:
    """Add `status` and `history` to the `aigov` command line."""
    app.command("status")(cluster_command(status))
    app.command("history")(cluster_command(history))
