"""`aigov evidence export|verify`: the audit and management-review evidence pack."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from aigov.cli.kube import (
    AllNamespacesOpt,
    ClusterSession,
    ConfigOpt,
    NamespaceOpt,
    cluster_command,
    cluster_config,
    duration,
    failures,
    file_config,
)
from aigov.evidence import pack
from aigov.evidence.collect import collect
from aigov.telemetry.decision_log import chain_heads

evidence_app = typer.Typer(help="ISO/IEC 42001 evidence for audits and management review.", no_args_is_help=True)


def export(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the pack into.", file_okay=False)],
    *,
    prometheus: Annotated[
        str | None, typer.Option("--prometheus", help="Prometheus URL for admission decision counts.")
    ] = None,
    period: Annotated[
        timedelta,
        typer.Option("--period", parser=duration, metavar="DURATION", show_default="30d", help="Reporting period."),
    ] = timedelta(days=30),
    expiring_within: Annotated[
        timedelta,
        typer.Option(
            "--expiring-within",
            parser=duration,
            metavar="DURATION",
            show_default="30d",
            help="Horizon for expiring records.",
        ),
    ] = timedelta(days=30),
    session: ClusterSession,
    decision_log: Annotated[
        list[Path] | None,
        typer.Option(
            "--decision-log",
            help="Decision-log file (repeatable): the pack records each chain's head and any break.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    config_path: ConfigOpt = None,
) -> None:
    """Write evidence.json, soa.csv, report.html and manifest.json (read-only access suffices)."""
    if namespace and all_namespaces:
        raise typer.BadParameter("use either --namespace or --all-namespaces", param_hint="--all-namespaces")
    if out.is_dir() and {p.name for p in out.iterdir()} - {pack.EVIDENCE, pack.SOA, pack.REPORT, pack.MANIFEST}:
        raise typer.BadParameter(f"{out} holds other files; choose an empty directory", param_hint="--out")
    with failures():
        given = file_config(config_path)
    with failures(), session.connect() as (kube, ns):
        config, source = cluster_config(kube, given)
        collected = collect(
            kube,
            None if all_namespaces else (ns,),
            config=config,
            now=datetime.now(UTC).replace(microsecond=0),
            period=period,
            prometheus=prometheus,
        )
    if decision_log:
        collected = dataclasses.replace(collected, decision_log=chain_heads(decision_log))
    files = pack.render(collected, config, expiring_within)
    for path in pack.write(files, out):
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(collected.systems)} AISystem(s) from {collected.scope}; configuration: {source}")
    for warning in collected.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for problem in (collected.decision_log or {}).get("problems", ()):
        typer.echo(f"warning: decision log broken: {problem}", err=True)


evidence_app.command("export")(cluster_command(export))


@evidence_app.command("verify")
def verify(directory: Annotated[Path, typer.Argument(help="An evidence pack directory.", file_okay=False)]) -> None:
    """Check every file of a pack against its manifest's SHA-256 (exit 1 when anything differs)."""
    problems = pack.verify(directory)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{directory}: every file matches {pack.MANIFEST}")


def register(app: typer.Typer) -> None:
    """Add `evidence` to the `aigov` command line."""
    app.add_typer(evidence_app, name="evidence")
