"""The whole `aigov` command tree (what `aigov --help` lists and the docs are generated from)."""

from __future__ import annotations

from typing import Any

import typer

from aigov import __version__
from aigov.cli import audit, check, crd, evidence, exception, log, nc, operator, records, selftest, status, webhook
from aigov.cli.main import new_app

app = new_app()


@app.command()
def version() -> None:
    """Print aigov's version and its policy bundle's version and sha256."""
    from aigov.policy.bundle import PolicyError, read_bundle  # noqa: PLC0415

    typer.echo(__version__)
    try:
        bundle = read_bundle()
    except PolicyError as exc:
        typer.echo(f"policy bundle: none ({exc})")
        return
    typer.echo(f"policy bundle: {bundle.version} sha256 {bundle.sha256}")


check.register(app)
records.register(app)
status.register(app)
evidence.register(app)
webhook.register(app)
operator.register(app)
exception.register(app)
audit.register(app)
log.register(app)
crd.register(app)
nc.register(app)
selftest.register(app)


def cli() -> Any:
    """The command tree as run (what the docs are generated from)."""
    return typer.main.get_command(app)
