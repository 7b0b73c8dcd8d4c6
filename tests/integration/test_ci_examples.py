"""The example CI configurations in docs/ci/: every `aigov check` command in them passes on the governed samples."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aigov.cli.app import app
from devkit.devcluster import OpaServer

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
GOVERNED = ("support-chatbot.yaml", "credit-scoring.yaml")
COMMAND = re.compile(r"aigov check [^|&>\n]*")
EXAMPLES = sorted((REPO / "docs" / "ci").glob("*.yaml"))


def test_every_example_has_a_check() -> None:
    assert {e.name for e in EXAMPLES} == {"github-actions.yaml", "gitlab-ci.yaml", "argocd-plugin.yaml"}
    assert all(COMMAND.search(e.read_text()) for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_commands_pass_on_the_samples(
    example: Path, opa: OpaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace laid out as the examples expect: deploy/ and rendered.yaml hold the governed workloads."""
    (tmp_path / "deploy").mkdir()
    for name in GOVERNED:
        shutil.copy(SAMPLES / "workloads" / name, tmp_path / "deploy" / name)
    (tmp_path / "rendered.yaml").write_text("---\n".join((SAMPLES / "workloads" / n).read_text() for n in GOVERNED))
    shutil.copytree(SAMPLES / "records", tmp_path / "aisystems")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGOV_NOW", "2026-06-01T00:00:00Z")
    commands = [shlex.split(m.group(0)) for m in COMMAND.finditer(example.read_text())]
    for command in commands:
        result = CliRunner().invoke(app, [*command[1:], "--opa-url", opa.url])
        assert result.exit_code == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"
        assert "2 allowed" in result.stdout or "<testsuites" in result.stdout or '"results"' in result.stdout
