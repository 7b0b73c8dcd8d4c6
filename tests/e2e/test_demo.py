"""`make demo` tells its story against the real servers: each step denies or admits as it says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

from devkit.demo import claim_workdir
from devkit.devcluster import Server, processes_in
from tests.polling import eventually

REPO = Path(__file__).resolve().parents[2]


def test_demo_story_denies_admits_suspends_and_resumes(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "devkit.demo", "--exit", "--workdir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    try:
        out, _ = demo.communicate(timeout=480)
    except subprocess.TimeoutExpired:
        demo.send_signal(signal.SIGTERM)  # the demo stops every server it started (a kill would leak them)
        out, _ = demo.communicate(timeout=90)
        pytest.fail(f"the demo did not finish within 480 s:\n{out}")
    assert demo.returncode == 0, out
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
    logs = [
        tmp_path / "demo" / "aigov" / "webhook" / "webhook.log",
        tmp_path / "demo" / "aigov" / "operator" / "operator.log",
    ]
    verified = subprocess.run(
        [Path(sys.executable).parent / "aigov", "log", "verify", *logs], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "/webhook/" in verified.stdout and "/operator/" in verified.stdout, "both write a chain"
    records = [line for line in logs[1].read_text().splitlines() if '"event":"records"' in line]
    assert any('"change":"changed"' in line and '"approvals"' in line for line in records), "bob's approval"
    assert any('"resumedBy":"bob"' in line for line in records), "bob's resume"


def _read_lines(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


def test_sigterm_mid_story_stops_every_server_and_a_second_demo_is_refused(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    demo = subprocess.Popen(
        [sys.executable, "-m", "devkit.demo", "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    lines: list[str] = []
    assert demo.stdout is not None
    threading.Thread(target=_read_lines, args=(demo.stdout, lines), daemon=True).start()
    try:
        eventually(lambda: any("nobody registered is refused" in line for line in lines), timeout=180)
        started = processes_in(workdir)
        names = {Path(f"/proc/{pid}/exe").readlink().name.split("-v")[0] for pid in started}
        assert {"etcd", "kube-apiserver", "opa", "prometheus"} <= names, names
        assert len(started) >= 6, "etcd, kube-apiserver, Prometheus, OPA, the webhook and the operator"

        second = subprocess.run(
            [sys.executable, "-m", "devkit.demo", "--exit", "--workdir", str(workdir)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=REPO,
        )
        assert second.returncode == 1
        assert f"another demo (pid {demo.pid}) is running with its state in {workdir}" in second.stderr
        assert processes_in(workdir) == started, "the refused demo touched nothing of the running one"

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=90) == 0, "".join(lines)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert "Stopped by SIGTERM" in "".join(lines)
    for group in set(started.values()):
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
    assert processes_in(workdir) == {}


def test_a_new_demo_stops_servers_a_killed_one_left_and_starts_from_empty_state(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    workdir.mkdir()
    (workdir / "etcd-data").write_text("the last demo's state")
    leftover = Server.start("leftover", ["sleep", "300"], workdir)
    assert leftover.process.pid in processes_in(workdir)
    lock = claim_workdir(workdir)
    try:
        assert leftover.process.wait(timeout=15) == -signal.SIGTERM
        assert list(workdir.iterdir()) == []
    finally:
        lock.close()
        leftover.stop()
