"""`make demo` tells its story against the real servers: each step denies or admits as it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_story_denies_admits_suspends_and_resumes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devkit.demo", "--exit", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "AIGOV_UNGOVERNED" in out
    assert "AIGOV_ASSESSMENT_MISSING" in out
    assert "AIGOV_APPROVAL_MISSING" in out
    assert "AIGOV_NOT_ASSESSOR" in out
    assert "deployment.apps/support-chatbot created" in out
    assert "Approved" in out
    assert "Suspended" in out
    assert "AIGOV_SUSPENDED" in out, "scale-up while suspended is refused"
    assert "deployment.apps/support-chatbot scaled" not in out
    assert "==> Stopped" in out
