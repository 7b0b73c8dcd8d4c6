"""`aigov nc list|show|close`: nonconformities and their corrective actions (clause 10.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aigov.cli.kube import (
    AllNamespacesOpt,
    ClusterSession,
    NamespaceOpt,
    OutputFormat,
    OutputOpt,
    cluster_command,
    failures,
    print_data,
    print_table,
)
from aigov.clients.kube import ApiError
from aigov.core.config import API_VERSION
from aigov.core.model import rfc3339
from aigov.core.nonconformity import NC_PLURAL, overdue, phase

nc_app = typer.Typer(help="Nonconformities and corrective actions (ISO/IEC 42001 clause 10.2).", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="The Nonconformity's name.")]
MERGE_PATCH = "application/merge-patch+json"


def _path(namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
    path = f"/apis/{API_VERSION}" + (f"/namespaces/{namespace}" if namespace else "") + f"/{NC_PLURAL}"
    return path + (f"/{name}" if name else "") + (f"/{subresource}" if subresource else "")


def _missing_kind(exc: ApiError) -> None:
    if exc.status == 404 and "the server could not find the requested resource" in exc.message:
        typer.echo(
            "error: the cluster has no Nonconformity kind: install aigov's CRDs (make crds / the chart)", err=True
        )
        raise typer.Exit(1) from None


def list_(
    *,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    output: OutputOpt = OutputFormat.TABLE,
    open_only: Annotated[bool, typer.Option("--open", help="Only those not closed yet.")] = False,
) -> None:
    """Nonconformities with their phase (Open, Verifying, Closed) and whether they are overdue."""
    with failures(), session.connect() as (kube, ns):
        try:
            items = list(kube.list(_path(None if all_namespaces else ns)))
        except ApiError as exc:
            _missing_kind(exc)
            raise
    now = datetime.now(UTC)
    items = [i for i in items if not open_only or phase(i).value == "Open"]
    items.sort(key=lambda i: (i["metadata"].get("namespace", ""), i["spec"].get("openedAt", "")))
    if output != OutputFormat.TABLE:
        print_data(items, output)
        return
    if not items:
        typer.echo("No nonconformities.")
        return

    def cells(i: dict[str, Any]) -> list[str]:
        spec, closure = i["spec"], (i.get("status") or {}).get("closure") or {}
        state = phase(i).value + (" (overdue)" if overdue(i, now) else "")
        return [i["metadata"]["name"], spec["system"], spec["source"], state, spec["openedAt"], spec["dueAt"],
                closure.get("closedBy", "-")]  # fmt: skip

    headers = ["NAME", "AISYSTEM", "SOURCE", "PHASE", "OPENED", "DUE", "CLOSED BY"]
    rows = [[i["metadata"]["namespace"], *cells(i)] if all_namespaces else cells(i) for i in items]
    print_table(["NAMESPACE", *headers] if all_namespaces else headers, rows)


def show(
    name: NameArg, *, session: ClusterSession, namespace: NamespaceOpt = None, output: OutputOpt = OutputFormat.YAML
) -> None:
    """One nonconformity with its closure and effectiveness."""
    with failures(), session.connect() as (kube, ns):
        try:
            item = kube.get(_path(ns, name))
        except ApiError as exc:
            _missing_kind(exc)
            raise
    item["metadata"] = {k: item["metadata"][k] for k in ("name", "namespace", "creationTimestamp")}
    print_data({**item, "phase": phase(item).value}, OutputFormat.YAML if output == OutputFormat.TABLE else output)


def close(
    name: NameArg,
    *,
    session: ClusterSession,
    root_cause: Annotated[str, typer.Option("--root-cause", help="The root cause found.")],
    action: Annotated[str, typer.Option("--action", help="The corrective action taken.")],
    ticket: Annotated[str, typer.Option("--ticket", help="The ticket or change reference.")],
    check: Annotated[str, typer.Option("--check", help="The system's drift check that must stay healthy.")],
    intervals: Annotated[
        int, typer.Option("--intervals", min=1, help="Consecutive healthy evaluations that show effectiveness.")
    ] = 3,
    namespace: NamespaceOpt = None,
) -> None:
    """Close a nonconformity as yourself; the operator then verifies the action's effectiveness."""
    with failures(), session.connect() as (kube, ns):
        user = kube.whoami()
        closure = {
            "closedBy": user,
            "closedAt": rfc3339(datetime.now(UTC).replace(microsecond=0)),
            "rootCause": root_cause,
            "action": action,
            "ticket": ticket,
            "effectivenessCheck": {"check": check, "intervals": intervals},
        }
        try:
            kube.request(
                "PATCH", _path(ns, name, "status"), body={"status": {"closure": closure}}, content_type=MERGE_PATCH
            )
        except ApiError as exc:
            _missing_kind(exc)
            raise
    typer.echo(f"nonconformity.aigov.io/{name} closed by {user}; effective once check {check} stays healthy "
               f"for {intervals} evaluation(s)")  # fmt: skip


nc_app.command("list")(cluster_command(list_))
nc_app.command("show")(cluster_command(show))
nc_app.command("close")(cluster_command(close))


def register(app: typer.Typer) -> None:
    """Add `nc` to the `aigov` command line."""
    app.add_typer(nc_app, name="nc")
