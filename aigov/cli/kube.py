"""What every cluster command shares: kubectl's flags, output formats and exit codes.

Exit codes: 0 done, 1 refused or failed (the API server's message is printed,
with the violation code of an admission denial), 2 usage. Tables are rich on a
terminal and plain, aligned text when piped; `-o json|yaml` print data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from aigov.clients.kube import KubeRest, KubeRestError
from aigov.core.model import parse_duration
from aigov.core.records import RecordError


class OutputFormat(StrEnum):
    """How results are printed."""

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


KubeconfigOpt = Annotated[
    Path | None,
    typer.Option("--kubeconfig", help="Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."),
]
ContextOpt = Annotated[str | None, typer.Option("--context", help="The kubeconfig context to use.")]
NamespaceOpt = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="Namespace (default: the context's namespace, else `default`)."),
]
AllNamespacesOpt = Annotated[bool, typer.Option("--all-namespaces", "-A", help="Every namespace.")]
OutputOpt = Annotated[OutputFormat, typer.Option("--output", "-o", help="Output format.")]


@dataclass(frozen=True)
class ClusterSession:
    """The connection options one command was given."""

    kubeconfig: Path | None
    context: str | None
    namespace: str | None

    @contextmanager
    def connect(self) -> Iterator[tuple[KubeRest, str]]:
        """A client and the namespace to work in; errors become exit code 1 (see `failures`)."""
        with KubeRest.connect(self.kubeconfig, self.context) as kube:
            yield kube, self.namespace or kube.target.namespace


def stdout() -> Console:
    """The console results go to (rich only on a terminal)."""
    return Console(highlight=False, soft_wrap=True)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def failures() -> Iterator[None]:
    """Turn refusals and failures into a message on stderr and exit code 1, never a traceback."""
    try:
        yield
    except (KubeRestError, RecordError) as exc:
        _stderr().print(str(exc), markup=False)
        raise typer.Exit(1) from None


def duration(text: str | timedelta) -> timedelta:
    """A positive duration like `365d`, `12h` or `30m` (Typer parser; bad input is a usage error)."""
    if isinstance(text, timedelta):
        return text
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if value <= timedelta(0):
        raise typer.BadParameter(f"{text!r} must be longer than zero")
    return value


def print_data(data: Any, fmt: OutputFormat) -> None:
    """Print `data` as JSON or YAML."""
    if fmt == OutputFormat.JSON:
        typer.echo(json.dumps(data, indent=2, sort_keys=False))
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None) -> None:
    """A rich table on a terminal, kubectl-style aligned columns when piped."""
    console = stdout()
    if console.is_terminal:
        table = Table(*headers, title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    if title:
        typer.echo(title)
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        typer.echo("   ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def print_fields(pairs: Sequence[tuple[str, str]], *, title: str | None = None) -> None:
    """`Key: value` lines, keys aligned (bold keys on a terminal)."""
    console = stdout()
    if title:
        console.print(f"[bold]{title}[/bold]" if console.is_terminal else title, markup=console.is_terminal)
    width = max((len(k) for k, _ in pairs), default=0) + 1
    for key, value in pairs:
        label = f"{key}:".ljust(width)
        if console.is_terminal:
            console.print(f"[bold]{label}[/bold] ", end="")
            console.print(value, markup=False)
        else:
            typer.echo(f"{label} {value}")
