"""Entry point of `aigov` and `kubectl aigov`: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from aigov import __version__
from aigov.cli import check, crd, evidence, exception, operator, records, status, webhook

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
    """Print aigov's version and its policy bundle's version and sha256."""
    from aigov.policy.bundle import PolicyError, read_bundle  # noqa: PLC0415

    typer.echo(__version__)
    try:
        bundle = read_bundle()
    except PolicyError as exc:
        typer.echo(f"policy bundle: none ({exc})")
        return
    typer.echo(f"policy bundle: {bundle.version} sha256 {bundle.sha256}")


crd.register(app)
check.register(app)
webhook.register(app)
records.register(app)
status.register(app)
evidence.register(app)
operator.register(app)
exception.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
