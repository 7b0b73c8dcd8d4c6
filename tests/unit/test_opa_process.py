"""The OPA launcher's version rules and the tested version pinned beside hack/versions.env."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigov.policy.opa_process import TESTED_OPA_VERSION, OpaBinary, OpaProcessError, check_binary, find_opa
from devkit.binaries import pinned_versions


def test_tested_version_is_the_pinned_one() -> None:
    assert pinned_versions()["OPA_VERSION"] == f"v{TESTED_OPA_VERSION}"


def test_older_opa_gets_a_note_newer_does_not() -> None:
    older = OpaBinary(Path("/x/opa"), (1, 0, 1))
    assert older.note == f"note: /x/opa is OPA 1.0.1, older than the tested {TESTED_OPA_VERSION}"
    assert OpaBinary(Path("/x/opa"), (1, 99, 0)).note is None


def _fake_opa(tmp_path: Path, version_line: str) -> Path:
    script = tmp_path / "opa"
    script.write_text(f"#!/bin/sh\necho '{version_line}'\necho 'Build Commit: x'\n")
    script.chmod(0o755)
    return script


def test_opa_0x_is_refused_with_how_to_get_1x(tmp_path: Path) -> None:
    with pytest.raises(OpaProcessError, match=r"is OPA 0\.70\.0, aigov needs 1\.x; get OPA 1\.x"):
        check_binary(_fake_opa(tmp_path, "Version: 0.70.0"))


def test_version_is_read_from_opa_version(tmp_path: Path) -> None:
    assert check_binary(_fake_opa(tmp_path, "Version: 1.4.2")).version == (1, 4, 2)


def test_not_executable_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(OpaProcessError, match=f"{tmp_path / 'missing'} is not an executable OPA binary"):
        find_opa(tmp_path / "missing")
