"""The built wheel, installed into a throwaway venv: it carries the policies and `aigov check` works from it.

Honest and fast: the wheel is built by pip from a copy of exactly the files the
Dockerfile's build stage gets (pip fetches setuptools for the isolated build),
then installed with `--no-deps --no-index` into a fresh venv whose third-party
dependencies come from the project's .venv through a `.pth` path entry (plain
paths: .venv's own .pth files, among them the editable aigov, are not run). The
test asserts that `aigov` is imported from the throwaway venv, not the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from aigov.policy.bundle import read_bundle
from aigov.policy.opa_process import TESTED_OPA_VERSION
from devkit import binaries

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
IN_FORCE = "2026-06-01T00:00:00Z"


@dataclass(frozen=True)
class Installed:
    """The wheel and the venv it is installed in."""

    wheel: Path
    venv: Path

    def run(self, *args: str, path: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """`args` with the venv's bin first on a PATH of `path`, no aigov variables, outside the repository."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIGOV_")}
        env["PATH"] = os.pathsep.join([str(self.venv / "bin"), path])
        return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("aigov", "policies"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(source)], check=True, timeout=300)
    wheel = next((root / "dist").glob("aigov-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=120,
    )
    return Installed(wheel, venv)


def test_wheel_carries_the_policies_and_nothing_of_the_dev_tree(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    rego = {n.removeprefix("aigov/policies/") for n in names if n.endswith(".rego")}
    assert rego == set(read_bundle(REPO / "policies").modules)
    assert all(n.startswith("aigov/policies/") for n in names if n.endswith(".rego"))
    assert not [n for n in names if n.startswith(("devkit/", "tests/", "bench/")) or "testdata" in n]
    assert not [n for n in names if n.endswith("_test.rego")]


def test_check_from_the_wheel_with_opa_on_path(installed: Installed, tmp_path: Path) -> None:
    opa_dir = binaries.find("opa").parent
    where = installed.run("python", "-c", "import aigov.policy.bundle as b; print(b.policy_dir())", path="/usr/bin",
                          cwd=tmp_path)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout + where.stderr
    version = installed.run("aigov", "version", path="/usr/bin", cwd=tmp_path)
    assert f"sha256 {read_bundle(REPO / 'policies').sha256}" in version.stdout, version.stderr

    result = installed.run(
        "aigov", "check", str(SAMPLES / "workloads"), "--aisystems", str(SAMPLES / "records"), "--now", IN_FORCE,
        "-o", "json", path=os.pathsep.join([str(opa_dir), "/usr/bin"]), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""  # the tested OPA: no version note
    report = [(r["name"], r["allowed"], [v["code"] for v in r["violations"]]) for r in json.loads(result.stdout)]
    assert report == [
        ("credit-scoring", True, []),
        ("nightly-trust-scores", False, ["AIGOV_PROHIBITED"]),
        ("support-chatbot", True, []),
        ("shadow-llm", False, ["AIGOV_UNGOVERNED"]),
        ("web-frontend", True, []),
    ]


def test_check_without_opa_says_how_to_get_one(installed: Installed, tmp_path: Path) -> None:
    result = installed.run("aigov", "check", str(SAMPLES / "workloads"), path="/usr/bin", cwd=tmp_path)
    assert result.returncode == 3
    assert "no `opa` found (looked at --opa-binary, $AIGOV_OPA, PATH)" in result.stderr
    assert f"go install github.com/open-policy-agent/opa@v{TESTED_OPA_VERSION}" in result.stderr
    assert "--opa-url" in result.stderr
    assert "Traceback" not in result.stderr
