"""Nonconformities on the real control plane: opened by the operator on a suspension, closed by people under
the closure policy, verified effective by the operator from a real drift check against the real Prometheus."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigov.core.config import Config
from aigov.core.nonconformity import for_exception
from aigov.install.nonconformity_policy import nonconformity_policy, nonconformity_policy_binding
from devkit.devcluster import LOOPBACK, PrometheusServer, Server, free_port
from tests.integration.cli.conftest import People, apply, run, system
from tests.integration.conftest import StartOperator
from tests.polling import eventually

pytestmark = pytest.mark.cluster
METRICS_PORT = free_port()


@pytest.fixture(scope="module")
def operator(start_operator: StartOperator, peering_name: str, prometheus: PrometheusServer, people: People) -> Server:
    """The operator with Prometheus for drift checks, and the closure policy applied."""
    apply(people.kube, nonconformity_policy(Config()), nonconformity_policy_binding())
    return start_operator(f"--peering={peering_name}", "--resync=30", f"--prometheus-url={prometheus.url}",
                          f"--metrics-host={LOOPBACK}", f"--metrics-port={METRICS_PORT}")  # fmt: skip


def _ok(people: People, user: str, ns: str, *args: str) -> str:
    result = run(getattr(people, user), ns, *args)
    assert result.exit_code == 0, result.output
    return result.output


def _ncs(people: People, ns: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(_ok(people, "alice", ns, "nc", "list", "-o", "json"))
    return items


def _close(people: People, user: str, ns: str, name: str, cause: str = "stale features") -> tuple[int, str]:
    result = run(getattr(people, user), ns, "nc", "close", name, "--root-cause", cause,
                 "--action", "retrained on fresh data", "--ticket", "JIRA-42", "--check", "quality",
                 "--intervals", "2")  # fmt: skip
    return result.exit_code, result.output + result.stderr


def test_suspension_opens_a_nonconformity_closed_and_verified(
    people: People, operator: Server, governed_namespace: str, tmp_path: Path
) -> None:
    ns = governed_namespace
    check = {"name": "quality", "query": "vector(0.01)", "comparator": ">", "threshold": 0.25, "action": "alert"}
    apply(people.kube, system("scorer", tier="high", owner="Lending DS",
                              monitoring={"intervalSeconds": 10, "checks": [check]}), namespace=ns)  # fmt: skip
    _ok(people, "bob", ns, "suspend", "scorer", "--reason", "complaints about denials")

    [nc] = eventually(lambda: _ncs(people, ns) or None, timeout=30, what="a nonconformity opened")
    name = nc["metadata"]["name"]
    assert (nc["spec"]["system"], nc["spec"]["source"], nc["spec"]["riskTier"]) == ("scorer", "suspension", "high")
    assert "suspended by bob (complaints about denials)" in nc["spec"]["summary"]
    assert nc["spec"]["openedBy"] == Config().identity.operator_usernames[0]

    _ok(people, "bob", ns, "resume", "scorer", "--justification", "model rolled back")
    eventually(lambda: (_ncs(people, ns)[0].get("status") or {}).get("resumedBy") == "bob", timeout=30,
               what="resumedBy recorded")  # fmt: skip
    assert len(_ncs(people, ns)) == 1, "the archived suspension opens nothing twice"

    code, out = _close(people, "bob", ns, name)
    assert code == 1 and "AIGOV_SELF_CLOSURE" in out, out
    code, out = _close(people, "mallory", ns, name)
    assert code == 1 and "AIGOV_NOT_APPROVER" in out, out
    forged = {"status": {"resumedBy": "nobody"}}
    refused = people.kube.kubectl("patch", "nc", name, "-n", ns, "--subresource=status", "--type=merge", "-p",
                                  json.dumps(forged), user=people.alice, check=False)  # fmt: skip
    assert "AIGOV_OPERATOR_FIELD" in refused.stderr
    code, out = _close(people, "alice", ns, name)
    assert code == 0, out
    code, out = _close(people, "alice", ns, name, cause="something else")
    assert code == 1 and "AIGOV_RECORD_IMMUTABLE" in out, out

    def effective() -> dict[str, Any] | None:
        found = _ncs(people, ns)[0]
        return found if ((found.get("status") or {}).get("effectiveness") or {}).get("effective") else None

    done = eventually(effective, timeout=60, what="the effectiveness check passed")
    assert done["status"]["effectiveness"]["healthyIntervals"] >= 2
    assert done["status"]["closure"]["closedBy"] == "alice"
    table = _ok(people, "alice", ns, "nc", "list")
    assert name in table and "Closed" in table
    assert "rootCause: stale features" in _ok(people, "alice", ns, "nc", "show", name)
    metrics = httpx.get(f"http://{LOOPBACK}:{METRICS_PORT}/metrics", timeout=5).text
    assert f'aigov_nonconformities{{namespace="{ns}",phase="Closed",source="suspension"}} 1.0' in metrics

    result = run(people.ivan, ns, "evidence", "export", "--out", str(tmp_path / "pack"))
    assert result.exit_code == 0, result.output
    [exported] = json.loads((tmp_path / "pack" / "evidence.json").read_text())["nonconformities"]
    assert (exported["name"], exported["phase"], exported["overdue"]) == (name, "Closed", False)
    assert "JIRA-42" in (tmp_path / "pack" / "report.html").read_text()


def test_break_glass_nonconformity_and_a_closure_needs_every_field(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    manifest = for_exception(ns, "triage", "bg-7", now=datetime.now(UTC), by="erin", reason="outage", tier="limited")
    apply(people.kube, manifest, namespace=ns)
    name = manifest["metadata"]["name"]
    closure = {"closedBy": "alice", "closedAt": "2026-06-01T00:00:00Z", "rootCause": "r", "action": "a",
               "effectivenessCheck": {"check": "quality", "intervals": 1}}  # fmt: skip
    patch = json.dumps({"status": {"closure": closure}})
    refused = people.kube.kubectl("patch", "nc", name, "-n", ns, "--subresource=status", "--type=merge", "-p", patch,
                                  user=people.alice, check=False)  # fmt: skip
    assert refused.returncode != 0
    assert "ticket: Required value" in refused.stderr
    [listed] = _ncs(people, ns)
    assert (listed["spec"]["source"], listed["spec"]["summary"]) == (
        "exception",
        "break-glass exception bg-7 granted by erin: outage",
    )
