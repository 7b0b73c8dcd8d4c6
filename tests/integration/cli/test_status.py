"""`aigov status` and `aigov history` against the real API server: content, formats, terminals, the plugin."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from devkit import binaries
from devkit.devcluster import ControlPlane
from tests.integration.cli.conftest import People, apply, run, system

pytestmark = pytest.mark.cluster
SHA = "ab" * 32
BIN = Path(sys.executable).parent


def _records(people: People, ns: str) -> None:
    """chat: assessed by carol, approved by alice, suspended by bob; faq: nothing yet."""
    apply(people.kube, system("chat"), system("faq", tier="high"), namespace=ns)
    steps = [
        (people.carol, ["assess", "chat", "--reference", "https://d/fria", "--sha256", SHA, "--expires", "365d",
                        "--residual-risk", "low"]),
        (people.alice, ["approve", "chat", "--role", "risk-officer", "--expires", "90d", "--justification", "ok"]),
        (people.bob, ["suspend", "chat", "--reason", "drift seen by hand"]),
    ]  # fmt: skip
    for user, args in steps:
        result = run(user, ns, *args)
        assert result.exit_code == 0, result.output


def _event(kube: ControlPlane, ns: str, name: str, *, reason: str, message: str, when: str) -> None:
    uid = json.loads(kube.kubectl("get", "ais", name, "-n", ns, "-o", "json").stdout)["metadata"]["uid"]
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{reason.lower()}"},
        "involvedObject": {"apiVersion": "aigov.io/v1alpha1", "kind": "AISystem", "name": name, "namespace": ns,
                           "uid": uid},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 1,
        "source": {"component": "aigov-operator"},
    }  # fmt: skip
    apply(kube, event, namespace=ns)


def test_status_table_when_piped(people: People, governed_namespace: str) -> None:
    _records(people, governed_namespace)
    result = run(people.ivan, governed_namespace, "status")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "TIER",
        "PHASE",
        "ASSESSED",
        "APPROVALS",
        "SUSPENDED",
        "WORKLOADS",
        "NEXT",
        "EXPIRY",
    ]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"chat", "faq", "policy-probe"}
    assert rows["chat"].split()[:2] == ["chat", "limited"]
    assert "carol, until " in rows["chat"]
    assert rows["chat"].split()[-4:-1] == ["1/1", "yes", "0"]
    assert rows["faq"].split() == ["faq", "high", "-", "-", "0/2", "-", "0", "-"]
    assert "\x1b[" not in result.stdout


def test_status_all_namespaces_and_data_formats(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    _records(people, ns)
    every = run(people.alice, None, "status", "-A")
    assert every.exit_code == 1
    assert 'cannot list resource "aisystems" in API group "aigov.io" at the cluster scope' in every.stderr
    admin = run(None, None, "status", "-A", "--kubeconfig", str(people.kube.kubeconfig))
    assert admin.stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [ns, "chat"] for line in admin.stdout.splitlines())

    views = json.loads(run(people.ivan, ns, "status", "-o", "json").stdout)
    chat = next(v for v in views if v["name"] == "chat")
    assert chat["namespace"] == ns
    assert chat["assessment"]["assessor"] == "carol"
    assert chat["assessment"]["valid"] is True
    assert [(a["approver"], a["role"], a["valid"]) for a in chat["approvals"]] == [("alice", "risk-officer", True)]
    assert chat["suspension"]["suspendedBy"] == "bob"
    assert chat["required"] == {"approvals": 1, "roles": []}
    one = yaml.safe_load(run(people.ivan, ns, "status", "chat", "-o", "yaml").stdout)
    assert one == chat


def test_status_of_one_system(people: People, governed_namespace: str) -> None:
    _records(people, governed_namespace)
    result = run(people.ivan, governed_namespace, "status", "chat")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Name:             {governed_namespace}/chat" in out
    assert "Phase:            - (not evaluated by the operator yet)" in out
    assert "Assessment:       completed by carol, residual risk low, expires " in out
    assert "Suspended:        since " in out
    assert "by bob: drift seen by hand" in out
    assert "Approvals (each approver's last decision)" in out
    assert any(line.split()[:3] == ["alice", "risk-officer", "approved"] for line in out.splitlines())


def test_status_of_an_empty_namespace(people: People, namespace: str) -> None:
    result = run(None, namespace, "status", "--kubeconfig", str(people.kube.kubeconfig))
    assert (result.exit_code, result.stdout) == (0, f"No AISystems in namespace {namespace}.\n")


def test_history_is_time_ordered_and_includes_events(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    _records(people, ns)
    _event(
        people.kube,
        ns,
        "chat",
        reason="Expiring",
        message="approval by alice expires soon",
        when="2099-01-01T00:00:00Z",
    )
    resumed = run(people.alice, ns, "resume", "chat", "--justification", "false alarm")
    assert resumed.exit_code == 0, resumed.output

    entries = json.loads(run(people.ivan, ns, "history", "chat", "-o", "json").stdout)
    assert [(e["what"], e["actor"]) for e in entries] == [
        ("created", ""),
        ("assessment completed", "carol"),
        ("approved", "alice"),
        ("suspended", "bob"),
        ("resumed", "alice"),
        ("warning: Expiring", "aigov-operator"),
    ]
    times = [datetime.fromisoformat(e["time"]) for e in entries]
    assert times == sorted(times)
    assert entries[3]["detail"] == "drift seen by hand"
    assert entries[4]["detail"] == "false alarm"

    table = run(people.ivan, ns, "history", "chat").stdout.splitlines()
    assert table[0].split() == ["TIME", "WHAT", "WHO", "DETAIL"]
    assert table[-1].split()[1:4] == ["warning:", "Expiring", "aigov-operator"]


def test_rich_table_on_a_terminal(people: People, governed_namespace: str) -> None:
    _records(people, governed_namespace)
    primary, replica = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [BIN / "aigov", "status", "-n", governed_namespace, "--kubeconfig", str(people.ivan.kubeconfig)],
        stdout=replica, stderr=replica, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    os.close(replica)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(timeout=30) == 0
    screen = b"".join(chunks).decode()
    assert "\x1b[1m" in screen
    assert "NAME" in screen
    assert "chat" in screen


def test_kubectl_plugin(people: People, governed_namespace: str) -> None:
    _records(people, governed_namespace)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "KUBECONFIG": str(people.ivan.kubeconfig)}
    plugins = subprocess.run(
        [binaries.find("kubectl"), "plugin", "list"], capture_output=True, text=True, env=env, check=False
    )
    assert str(BIN / "kubectl-aigov") in plugins.stdout
    result = subprocess.run(
        [binaries.find("kubectl"), "aigov", "status", "chat", "-n", governed_namespace, "-o", "json"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["approvals"][0]["approver"] == "alice"
    refused = subprocess.run(
        [binaries.find("kubectl"), "aigov", "suspend", "faq", "-n", governed_namespace, "--reason", "x"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error from server (Forbidden):")


def test_status_and_history_show_every_assessment_and_the_retirement(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    steps = [
        (people.carol, ["assess", "chat", "--reference", "https://d/fria", "--sha256", SHA, "--residual-risk", "high",
                        "--rejected"]),
        (people.carol, ["assess", "chat", "--reference", "https://d/fria2", "--sha256", SHA, "--expires", "365d",
                        "--residual-risk", "low"]),
        (people.bob, ["retire", "chat", "--justification", "replaced by chat-v2"]),
    ]  # fmt: skip
    for user, args in steps:
        result = run(user, ns, *args)
        assert result.exit_code == 0, result.output
    out = run(people.ivan, ns, "status", "chat").stdout
    assert "Assessments (append-only; each assessor's last entry counts)" in out
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("carol")] == [
        ["carol", "rejected"],
        ["carol", "completed"],
    ]
    assert "by bob: replaced by chat-v2" in out
    entries = json.loads(run(people.ivan, ns, "history", "chat", "-o", "json").stdout)
    assert [(e["what"], e["actor"]) for e in entries][1:] == [
        ("assessment rejected", "carol"),
        ("assessment completed", "carol"),
        ("retired", "bob"),
    ]
