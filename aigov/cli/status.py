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
from aigov.clients.kube import ApiError, KubeRest, aisystems_path, archives_path, events_path
from aigov.core.archive import by_system, tombstone, verify
from aigov.core.config import KIND
from aigov.core.views import Entry, age, archive_timeline, status_row, summary, timeline

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
    """The governance timeline, from the record archive (so also of a deleted system) and the live object's Events."""
    with failures(), session.connect() as (kube, ns):
        obj = _get_or_none(kube, aisystems_path(ns, name))
        archived = _archived(kube, ns, name)
        if obj is None and not archived:
            raise ApiError(404, "NotFound", f"no AISystem {ns}/{name} and no archive of one: nothing to show")
        selector = f"involvedObject.kind={KIND},involvedObject.name={name}"
        events = list(kube.list(events_path(ns), fieldSelector=selector)) if obj is not None else []
    uid = ((obj or {}).get("metadata") or {}).get("uid")
    if uid in archived or obj is None:
        live = timeline(obj, events, records=False) if obj is not None else []
        entries = sorted([*live, *(e for found in archived.values() for e in archive_timeline(found))], key=_time)
    else:
        entries = timeline(obj, events)
    notes = [_archive_note(u, found) for u, found in archived.items()]
    if output != OutputFormat.TABLE:
        rendered = [e.to_dict() for e in entries]
        print_data({"entries": rendered, "archives": notes} if notes else rendered, output)
        return
    rows = [[e.to_dict()["time"], e.what, e.actor or "-", e.detail] for e in entries]
    print_table(("TIME", "WHAT", "WHO", "DETAIL"), rows)
    for note in notes:
        deleted = note["deleted"]
        state = f"deleted, observed {deleted['observedAt']}" if deleted else "live"
        chain = "chain intact" if note["chainError"] is None else f"CHAIN BROKEN: {note['chainError']}"
        typer.echo(f"Archive of {ns}/{name} (uid {note['uid']}): {note['entries']} entries, {state}, {chain}", err=True)


def _time(entry: Entry) -> datetime:
    return entry.time


def _archived(kube: KubeRest, namespace: str, name: str) -> dict[str, list[dict[str, Any]]]:
    """uid -> archive entries of every AISystem ever named `namespace/name` ({} when archives are unreadable)."""
    try:
        found = by_system(kube.list(archives_path()))
    except ApiError as exc:
        if exc.status not in (403, 404):
            raise
        typer.echo(f"Record archive not read ({exc.reason}): showing the live records only.", err=True)
        return {}
    return {uid: entries for (ns, n, uid), entries in found.items() if (ns, n) == (namespace, name)}


def _get_or_none(kube: KubeRest, path: str) -> dict[str, Any] | None:
    try:
        return kube.get(path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _archive_note(uid: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """What `history` says about one archive: its uid, size, tombstone and whether its chain holds."""
    return {"uid": uid, "entries": len(entries), "deleted": tombstone(entries), "chainError": verify(entries)}


def register(app: typer.Typer) -> None:
    """Add `status` and `history` to the `aigov` command line."""
    app.command("status")(cluster_command(status))
    app.command("history")(cluster_command(history))
