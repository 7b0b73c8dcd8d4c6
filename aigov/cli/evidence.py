"""`aigov evidence export|verify`: the audit and management-review evidence pack."""

from __future__ import annotations

import dataclasses
import json
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
from aigov.core.config import API_VERSION, GROUP
from aigov.core.management_system import MS_PLURAL
from aigov.core.model import rfc3339
from aigov.evidence import pack
from aigov.evidence.collect import collect
from aigov.evidence.signing import SigningError, load_private_key, load_public_key
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
    signing_key: Annotated[
        Path | None,
        typer.Option(
            "--signing-key",
            help="PEM private key (Ed25519 or ECDSA P-256): sign the pack (statement.dsse.json).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The previous pack's directory: this pack names its digest.", file_okay=False),
    ] = None,
    require_complete: Annotated[
        bool,
        typer.Option("--require-complete", help="Exit 1 when part of the evidence is missing (the pack is written)."),
    ] = False,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    config_path: ConfigOpt = None,
) -> None:
    """Write evidence.json, soa.csv, report.html, manifest.json and, signed, statement.dsse.json (read-only access)."""
    if namespace and all_namespaces:
        raise typer.BadParameter("use either --namespace or --all-namespaces", param_hint="--all-namespaces")
    if out.is_dir() and {p.name for p in out.iterdir()} - set(pack.FILES):
        raise typer.BadParameter(f"{out} holds other files; choose an empty directory", param_hint="--out")
    try:
        key = load_private_key(signing_key) if signing_key else None
    except SigningError as exc:
        raise typer.BadParameter(str(exc), param_hint="--signing-key") from exc
    try:
        before = pack.pack_reference(previous) if previous else None
    except pack.PackError as exc:
        raise typer.BadParameter(str(exc), param_hint="--previous") from exc
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
    collected = dataclasses.replace(
        collected,
        decision_log=chain_heads(decision_log) if decision_log else None,
        previous_pack=before,
        previous_document=json.loads((previous / pack.EVIDENCE).read_text()) if previous else None,
    )
    (out / pack.SIGNATURE).unlink(missing_ok=True)
    files = pack.render(collected, config, expiring_within, key)
    for path in pack.write(files, out):
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(collected.systems)} AISystem(s) from {collected.scope}; configuration: {source}")
    for warning in collected.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for problem in (collected.decision_log or {}).get("problems", ()):
        typer.echo(f"warning: decision log broken: {problem}", err=True)
    gaps = json.loads(files[pack.EVIDENCE])["completeness"]["missing"]
    if gaps:
        typer.echo("INCOMPLETE: " + "; ".join(f"{g['part']} missing ({g['why']})" for g in gaps))
        if require_complete:
            raise typer.Exit(1)
    else:
        typer.echo("complete: every part of the evidence was collected")


evidence_app.command("export")(cluster_command(export))


@evidence_app.command("verify")
def verify(
    directory: Annotated[Path, typer.Argument(help="An evidence pack directory.", file_okay=False)],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="PEM public key: check the signed statement too.", exists=True, dir_okay=False
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help="The previous pack's directory: check that this pack names it.", file_okay=False
        ),
    ] = None,
) -> None:
    """Check a pack against its manifest, its signed statement and its chain (exit 1 on any problem)."""
    try:
        key = load_public_key(public_key) if public_key else None
    except SigningError as exc:
        raise typer.BadParameter(str(exc), param_hint="--public-key") from exc
    problems = pack.verify(directory, key, previous)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{directory}: every file matches {pack.MANIFEST}")
    if key is not None:
        typer.echo(f"{directory}: the signed statement verifies and names every file")
    elif (directory / pack.SIGNATURE).is_file():
        typer.echo(f"{directory}: signature not checked (give --public-key)")
    if previous is not None:
        typer.echo(f"{directory}: names the previous pack {previous}")


def sign_off(
    directory: Annotated[
        Path, typer.Argument(help="The evidence pack the management review reviewed.", file_okay=False)
    ],
    *,
    session: ClusterSession,
    decision: Annotated[str, typer.Option("--decision", help="The review's conclusion, e.g. accepted.")],
    notes: Annotated[str | None, typer.Option("--notes", help="Decisions and actions, or the minutes.")] = None,
) -> None:
    """Record the management review's sign-off of a pack in the AIManagementSystem, as yourself (clause 9.3)."""
    try:
        digest = pack.pack_reference(directory)["digest"]
    except (pack.PackError, OSError, ValueError, KeyError) as exc:
        raise typer.BadParameter(str(exc), param_hint="DIRECTORY") from exc
    path = f"/apis/{API_VERSION}/{MS_PLURAL}"
    with failures(), session.connect() as (kube, _):
        user = kube.whoami()
        found = sorted(kube.list(path), key=lambda o: str(o["metadata"]["name"]))
        if not found:
            typer.echo("error: no AIManagementSystem in the cluster: create one first (docs/evidence.md)", err=True)
            raise typer.Exit(1)
        target = found[0]
        entry = {"reviewer": user, "reviewedAt": rfc3339(datetime.now(UTC).replace(microsecond=0)),
                 "packDigest": digest, "decision": decision, **({"notes": notes} if notes else {})}  # fmt: skip
        reviews = [*((target.get("status") or {}).get("reviews") or []), entry]
        body = {"metadata": {"resourceVersion": target["metadata"]["resourceVersion"]}, "status": {"reviews": reviews}}
        name = target["metadata"]["name"]
        kube.request("PATCH", f"{path}/{name}/status", body=body, content_type="application/merge-patch+json")
    typer.echo(f"aimanagementsystem.{GROUP}/{name}: review of {digest} recorded by {user} ({decision})")


evidence_app.command("sign-off")(cluster_command(sign_off))


def register(app: typer.Typer) -> None:
    """Add `evidence` to the `aigov` command line."""
    app.add_typer(evidence_app, name="evidence")
