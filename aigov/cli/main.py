"""Entry point of `aigov` and `kubectl aigov`: one Typer app, one module per command group.

Help is plain text, laid out the same whatever the terminal (no rich panels), with
kubectl-like metavars; run as `kubectl-aigov` the usage lines say `kubectl aigov`.
Server commands (run by the Helm chart) are listed apart from the people's commands.

The whole command tree is `aigov.cli.app.app`. `aigov operator` runs from a tree that
holds only that command (`new_app`, same help), so the operator's long-lived process
does not import what the other commands need (FastAPI, uvicorn, the OPA client,
kubernetes_asyncio, rich, Jinja): about 50 MiB less resident memory
(docs/benchmarks.md, "Operator at scale").
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

PLUGIN = "kubectl-aigov"
SERVER_COMMANDS = ("webhook", "operator", "audit-server", "crd")


def _argument(param: Any) -> None:
    """`NAME` / `[NAME]` / `PATH...` in usage and help, without Typer's type labels (`<list[str]>`)."""
    name = (param.metavar or param.name).upper()
    shown = name + ("..." if param.nargs != 1 else "")
    usage = shown if param.required else f"[{shown}]"
    param.metavar = name
    param.display_type_rich = lambda ctx: None
    param._usage_display_name = lambda: usage


def _tidy(command: Any) -> None:
    """Metavars and defaults that read the same on every Typer version: `--context CONTEXT`, `[default: 30d]`."""
    for param in command.params:
        if param.param_type_name == "option" and not param.is_flag and param.metavar is None:
            long = max(param.opts, key=len).lstrip("-")
            param.metavar = long.upper().replace("-", "_")
        if param.param_type_name == "argument":
            _argument(param)
        if isinstance(getattr(param, "show_default", None), str):
            param.help = f"{param.help} [default: {param.show_default}]"
            param.show_default = False
    for sub in getattr(command, "commands", {}).values():
        _tidy(sub)


class _Commands(TyperGroup):
    """The root group: people's commands first, the server commands in a section of their own; help tidied."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy(self)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """List commands in two sections."""
        commands = [(n, c) for n in self.list_commands(ctx) if (c := self.get_command(ctx, n)) and not c.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        for title, server in (("Commands", False), ("Server commands (run in the cluster by the Helm chart)", True)):
            rows = [(n, c.get_short_help_str(limit)) for n, c in commands if (n in SERVER_COMMANDS) == server]
            with formatter.section(title):
                formatter.write_dl(rows)


def new_app() -> typer.Typer:
    """An `aigov` command tree without commands yet."""
    app = typer.Typer(
        name="aigov",
        cls=_Commands,
        help="ISO/IEC 42001 governance for AI workloads on Kubernetes.",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """ISO/IEC 42001 governance for AI workloads on Kubernetes."""

    return app


def prog_name(argv0: str) -> str:
    """`kubectl aigov` when run as kubectl's plugin, else `aigov`."""
    return "kubectl aigov" if Path(argv0).name == PLUGIN else "aigov"


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["operator"]:
        from aigov.cli import operator  # noqa: PLC0415  (the operator's process imports only its command)

        app = new_app()
        operator.register(app)
        operator.lean_imports()
    else:
        from aigov.cli.app import app  # noqa: PLC0415
    app(prog_name=prog_name(sys.argv[0]))
