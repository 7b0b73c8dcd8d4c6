"""The webhook's decision log is a hash chain: `aigov log verify` passes its real output and finds any tampering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.devcluster import ControlPlane
from devkit.devstack import Webhook
from tests.e2e.objects import apply, declared_not_ai, workload
from tests.polling import eventually

pytestmark = [pytest.mark.cluster]
AIGOV = Path(sys.executable).parent / "aigov"


def _aigov(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIGOV, *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


def _chained(log: Path) -> list[int]:
    """Indexes of the decision-log lines in the webhook's log."""
    return [n for n, line in enumerate(log.read_text().splitlines()) if '{"chain":' in line]


def test_verify_passes_the_webhooks_log_and_finds_every_kind_of_tampering(
    kube: ControlPlane, aigov_cluster: Webhook, namespace: str, tmp_path: Path
) -> None:
    log = aigov_cluster.server.log_path
    before = len(_chained(log))
    for n in range(4):
        apply(kube, namespace, workload("Deployment", f"denied-{n}"))
        apply(kube, namespace, declared_not_ai("Deployment", f"web-{n}"))
    eventually(lambda: len(_chained(log)) >= before + 8, what="eight more decision lines")
    lines = log.read_text().splitlines()
    chained = _chained(log)
    assert f'"namespace":"{namespace}"' in lines[chained[-1]]

    intact = tmp_path / "intact.log"
    intact.write_text("\n".join(lines) + "\n")
    result = _aigov("log", "verify", intact)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact" in result.stdout
    assert "/webhook/" in result.stdout and "head " in result.stdout

    middle = chained[-4]
    tampered: dict[str, dict[int, str | None]] = {
        "changed": {middle: lines[middle].replace('"decision":"denied"', '"decision":"allowed"')},
        "removed": {middle: None},
        "inserted": {middle: lines[chained[-6]] + "\n" + lines[middle]},
        "reordered": {middle: lines[chained[-3]], chained[-3]: lines[middle]},
    }
    for what, edits in tampered.items():
        edited = [edits.get(n, line) for n, line in enumerate(lines)]
        copy = tmp_path / f"{what}.log"
        copy.write_text("\n".join(line for line in edited if line is not None) + "\n")
        result = _aigov("log", "verify", copy)
        assert result.returncode == 1, f"{what}: {result.stdout}"
        assert f"BROKEN {copy}:" in result.stdout, f"{what}: {result.stdout}"

    out = tmp_path / "evidence"
    result = _aigov(
        "evidence", "export", "--out", out, "-n", namespace, "--decision-log", intact, "--kubeconfig", kube.kubeconfig
    )
    assert result.returncode == 0, result.stderr
    recorded = json.loads((out / "evidence.json").read_text())["decisionLog"]
    assert recorded["intact"] is True
    assert any("/webhook/" in head["writer"] and head["seq"] >= 8 for head in recorded["heads"])
