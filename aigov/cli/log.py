"""`aigov log verify`: check the hash chains of decision-log files (docs/decision-log.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aigov.telemetry.decision_log import verify_files

app = typer.Typer(help="The tamper-evident decision log.", no_args_is_help=True)


@app.command("verify")
def verify(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Log files, oldest first (other log lines in them are skipped).", exists=True, dir_okay=False
        ),
    ],
) -> None:
    """Check every writer's chain; exit 1 and say where when a line was changed, removed, inserted or reordered."""
    try:
        verdict = verify_files(files)
    except OSError as exc:
        typer.echo(f"error: cannot read {exc.filename}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    for problem in verdict.problems:
        typer.echo(f"BROKEN {problem}")
    for head in verdict.heads.values():
        typer.echo(f"head {head.writer} seq {head.seq} sha256 {head.sha256} ({head.where})")
    if not verdict.heads and not verdict.problems:
        typer.echo("error: no decision-log lines in these files", err=True)
        raise typer.Exit(2)
    count = len(verdict.heads)
    summary = f"{verdict.lines} chained lines from {count} writer{'s' if count != 1 else ''}"
    if verdict.problems:
        typer.echo(f"{summary}: {len(verdict.problems)} break(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{summary}: intact (the last lines of a chain are proven only against a recorded head)")


def register(root: typer.Typer) -> None:
    """Add `log` to the `aigov` command line."""
    root.add_typer(app, name="log")
