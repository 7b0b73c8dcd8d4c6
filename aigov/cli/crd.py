"""`aigov crd`: print or write the CustomResourceDefinitions generated from the models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aigov.install import crd as crds


def crd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write one file per CRD into this directory instead of printing them."),
    ] = None,
) -> None:
    """Print the AISystem and kopf peering CRDs as YAML (or write them with --out)."""
    if out is None:
        typer.echo("".join(crds.rendered().values()), nl=False)
        return
    for path in crds.write(out):
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add `crd` to the `aigov` command line."""
    app.command("crd")(crd)
