"""The command line's face: deterministic help, `kubectl aigov` usage, grouped commands, docs/cli.md in step."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from aigov.cli.app import app
from aigov.cli.main import prog_name
from devkit import clidocs

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_docs_cli_md_is_generated_from_the_commands() -> None:
    assert (REPO / "docs" / "cli.md").read_text() == clidocs.render(), "run: python -m devkit.clidocs docs/cli.md"


@pytest.mark.parametrize("noise", ["<bool>", "list[str]", "<str>", "<path>", "{paths}", "(30d)", "╭"])
def test_help_has_no_typer_noise(noise: str) -> None:
    assert noise not in clidocs.render()


def test_usage_says_kubectl_aigov_when_run_as_the_plugin() -> None:
    assert prog_name("/usr/local/bin/kubectl-aigov") == "kubectl aigov"
    assert prog_name("aigov") == "aigov"
    result = runner.invoke(app, ["approve", "--help"], prog_name="kubectl aigov")
    assert result.stdout.startswith("Usage: kubectl aigov approve [OPTIONS] NAME\n")


def test_server_commands_are_listed_apart_and_completion_is_offered() -> None:
    out = runner.invoke(app, ["--help"], prog_name="aigov").stdout
    people, server = out.split("Server commands")
    assert all(f"\n  {c} " in server and f"\n  {c} " not in people for c in ("webhook", "operator", "crd"))
    assert "\n  approve " in people
    assert "--install-completion" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "x", "--role", "r", "--justification", "j", "--expires", "180"], "e.g. 365d, 12h or 1h30m"),
        (["status", "-o", "text"], "'text' is not one of: table, json, yaml"),
        (["check", "-", "-o", "xml"], "is not one of: table, json, yaml, junit, sarif, github, openreports"),
        (["status", "--request-timeout", "soon"], "'soon' is not a duration"),
    ],
)
def test_bad_values_say_what_is_allowed(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, prog_name="aigov")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Value error" not in result.stderr
    assert "Traceback" not in result.stderr
