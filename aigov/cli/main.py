"""Entry point of `aigov` and `kubectl aigov`: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from aigov import __version__
from aigov.cli import audit, check, crd, evidence, operator, records, status, webhook

app = typer.Typer(
    name="aigov",
    help="ISO/IEC 42001 governance for AI workloads on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """ISO/IEC 42001 governance for AI workloads on Kubernetes."""


@app.command()
def version() -> None:
    """Print aigov's version."""
    typer.echo(__version__)


crd.register(app)
check.register(app)
webhook.register(app)
records.register(app)
status.register(app)
evidence.register(app)
operator.register(app)
audit.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
