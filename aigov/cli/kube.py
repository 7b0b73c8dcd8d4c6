"""What every cluster command shares: kubectl's flags, output formats and exit codes.

Exit codes (docs/cli.md): 0 done, 1 refused or failed (the API server's message
is printed, with the violation code of an admission denial; the cluster
unreachable; the kubeconfig or configuration unusable), 2 usage. Tables are rich
on a terminal and plain, aligned text when piped; `-o json|yaml` print data.
`cluster_command` gives a command kubectl's connection flags.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable, Iterator, Sequence
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

from aigov.clients.kube import JSON_PATCH, ApiError, Connection, KubeRest, KubeRestError
from aigov.core.config import Config, ConfigError, load_config, parse_config
from aigov.core.model import parse_duration
from aigov.core.records import RecordError


class OutputFormat(StrEnum):
    """How results are printed."""

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


def choice(enum: type[StrEnum]) -> dict[str, Any]:
    """Option settings for an enum: its values in the help and a plain error listing them."""

    def parse(text: str | StrEnum) -> StrEnum:
        if isinstance(text, enum):
            return text
        try:
            return enum(text)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise typer.BadParameter(f"{text!r} is not one of: {allowed}") from None

    return {"parser": parse, "metavar": "[" + "|".join(e.value for e in enum) + "]"}


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
OutputOpt = Annotated[OutputFormat, typer.Option("--output", "-o", help="Output format.", **choice(OutputFormat))]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="aigov configuration file to use instead of the cluster's ConfigMap aigov-system/aigov-config.",
    ),
]
# Where the chart puts the configuration the webhook and operator run with (release `aigov` in `aigov-system`).
CONFIG_NAMESPACE, CONFIG_MAP, CONFIG_KEY = "aigov-system", "aigov-config", "config.yaml"


def request_timeout(text: str | float) -> float:
    """kubectl's `--request-timeout`: seconds (`30`) or a duration (`1m`); 0 waits forever."""
    if isinstance(text, float):
        return text
    try:
        return float(text)
    except ValueError:
        pass
    return duration(text).total_seconds()


_CONNECTION = (
    inspect.Parameter("kubeconfig", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=KubeconfigOpt),
    inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ContextOpt),
    inspect.Parameter(
        "cluster",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, typer.Option("--cluster", help="The kubeconfig cluster to use.")],
    ),
    inspect.Parameter(
        "user",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, typer.Option("--user", help="The kubeconfig user to use.")],
    ),
    inspect.Parameter(
        "as_user",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None, typer.Option("--as", help="Username to impersonate (the record is bound to this user).")
        ],
    ),
    inspect.Parameter(
        "as_group",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            list[str] | None, typer.Option("--as-group", help="Group to impersonate (repeatable; needs --as).")
        ],
    ),
    inspect.Parameter(
        "request_timeout",
        inspect.Parameter.KEYWORD_ONLY,
        default=30.0,
        annotation=Annotated[
            float,
            typer.Option(
                "--request-timeout",
                parser=request_timeout,
                metavar="DURATION",
                show_default=False,
                help="How long one request may take, e.g. 30s or 1m; 0 waits forever (default 30s).",
            ),
        ],
    ),
)


@dataclass(frozen=True)
class ClusterSession:
    """The connection options one command was given."""

    connection: Connection
    namespace: str | None = None

    @contextmanager
    def connect(self) -> Iterator[tuple[KubeRest, str]]:
        """A client and the namespace to work in; errors become exit code 1 (see `failures`)."""
        with KubeRest.open(self.connection) as kube:
            yield kube, self.namespace or kube.target.namespace


def cluster_command(func: Callable[..., None], *, cluster_flag: bool = True) -> Callable[..., None]:
    """`func` with kubectl's connection flags added; it receives them as `session: ClusterSession`.

    `func` keeps its own `namespace` option (its help differs per command) and passes it on.
    `cluster_flag=False` leaves out `--cluster NAME` for a command that uses `--cluster` otherwise.
    """
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "session"]
    flags = [p for p in _CONNECTION if cluster_flag or p.name != "cluster"]

    @functools.wraps(func, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    def command(**kwargs: Any) -> None:
        connection = Connection(
            kubeconfig=kwargs.pop("kubeconfig"),
            context=kwargs.pop("context"),
            cluster=kwargs.pop("cluster") if cluster_flag else None,
            user=kwargs.pop("user"),
            impersonate=kwargs.pop("as_user"),
            impersonate_groups=tuple(kwargs.pop("as_group") or ()),
            timeout=kwargs.pop("request_timeout"),
        )
        func(session=ClusterSession(connection, kwargs.get("namespace")), **kwargs)

    parameters = [*own, *flags]
    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command


def file_config(path: Path | None) -> tuple[Config, str] | None:
    """`--config` (or `$AIGOV_CONFIG`) and its name, read before any connection; None when neither is given."""
    if path is None and not os.environ.get("AIGOV_CONFIG"):
        return None
    return load_config(path), f"file {path or os.environ['AIGOV_CONFIG']}"


def cluster_config(kube: KubeRest, given: tuple[Config, str] | None) -> tuple[Config, str]:
    """The configuration a cluster command judges with, and where it came from.

    A file given wins; else the cluster's ConfigMap, so "approvals needed" and the bound workloads follow
    the cluster's tiers and labels; else, when that cannot be read, the built-in defaults (and it says so).
    """
    if given is not None:
        return given
    where = f"ConfigMap {CONFIG_NAMESPACE}/{CONFIG_MAP}"
    try:
        configmap = kube.get(f"/api/v1/namespaces/{CONFIG_NAMESPACE}/configmaps/{CONFIG_MAP}")
    except ApiError as exc:
        if exc.status not in {403, 404}:
            raise
        return Config(), f"built-in defaults ({where} not readable: {exc.reason or exc.status}; pass --config)"
    text = (configmap.get("data") or {}).get(CONFIG_KEY)
    if text is None:
        raise ConfigError(f"{where} has no {CONFIG_KEY} key")
    return parse_config(text, where), f"cluster {where}"


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
    except (KubeRestError, RecordError, ConfigError) as exc:
        _stderr().print(str(exc) if isinstance(exc, ApiError) else f"error: {exc}", markup=False)
        raise typer.Exit(1) from None


def duration(text: str | timedelta) -> timedelta:
    """A positive duration like `365d`, `12h` or `30m` (Typer parser; bad input is a usage error)."""
    if isinstance(text, timedelta):
        return text
    try:
        value = parse_duration(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a duration: a number and a unit, e.g. 365d, 12h or 1h30m (units: s, m, h, d, w, y)"
        ) from None
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


WRITE_ATTEMPTS = 5
"""Attempts of a read-build-patch record write before a concurrent writer's conflict (409) is reported."""


def patch_status(kube: KubeRest, path: str, build: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> dict[str, Any]:
    """Read the object at `path`, build a JSON patch from it, PATCH its status subresource; on a conflict with a
    concurrent write (the patch's resourceVersion test), read and build again. The object as written."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        patch = build(kube.get(path))
        try:
            updated: dict[str, Any] = kube.request("PATCH", f"{path}/status", body=patch, content_type=JSON_PATCH)
        except ApiError as exc:
            if exc.status == 409 and attempt < WRITE_ATTEMPTS:
                continue
            raise
        break
    return updated
