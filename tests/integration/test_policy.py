"""`aigov.policy.opa` against a real OPA serving the bundle: readiness, decisions, no rewrites, failing closed."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigov.core.config import Config, EnforcementMode
from aigov.policy.bundle import POLICY_DIR_ENV, Bundle, PolicyError, policy_dir, read_bundle
from aigov.policy.input import Namespace, admission_request, build
from aigov.policy.opa import UNAVAILABLE, AdmissionDecision, PolicyClient
from devkit import loadgen
from devkit.devcluster import OpaServer, ServerError, start_opa

NOW = datetime(2026, 6, 1, tzinfo=UTC)
VLLM = "vllm/vllm-openai:v0.6.3"


def _deployment(labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "labels": labels},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "m", "image": VLLM}]}}},
    }


APPROVED = {
    "apiVersion": "aigov.io/v1alpha1",
    "kind": "AISystem",
    "metadata": {"name": "chat", "namespace": "ml"},
    "spec": {"purpose": "chat", "riskTier": "minimal", "images": [VLLM]},
    "status": {
        "impactAssessment": {"status": "completed", "assessor": "a", "expiresAt": "2027-01-01T00:00:00Z"},
        "approvals": [
            {
                "approver": "b",
                "role": "lead",
                "decision": "approved",
                "expiresAt": "2027-01-01T00:00:00Z",
                "images": [VLLM],
            }
        ],
    },
}


def _input(labels: dict[str, str], system: dict[str, Any] | None, mode: str | None = None) -> dict[str, Any]:
    namespace = Namespace("ml", {"aigov.io/enforcement": mode} if mode else {})
    return build(admission_request(_deployment(labels), "ml"), system, namespace, NOW)


@pytest.fixture
async def client(opa: OpaServer) -> AsyncIterator[PolicyClient]:
    async with PolicyClient(opa.url) as policy_client:
        yield policy_client


def _copy_of_policies(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(policy_dir(), copy)
    return copy


async def test_ready_when_opa_holds_the_shipped_bundle(client: PolicyClient) -> None:
    assert await client.unready_reason() is None
    bundle = client.bundle
    assert bundle == read_bundle(policy_dir())
    assert len(bundle.sha256) == 64
    assert bundle.version.endswith("+" + bundle.sha256[:12])
    assert set(bundle.modules) >= {"aigov/admission/decision.rego", "system/authz.rego"}
    assert not any(name.endswith("_test.rego") or name.startswith("testdata/") for name in bundle.modules)


async def test_decisions(client: PolicyClient) -> None:
    denied = await client.decide(_input({}, None))
    assert not denied.allowed
    assert [(v.code, v.control) for v in denied.violations] == [("AIGOV_UNGOVERNED", "A.4.2")]

    allowed = await client.decide(_input({"aigov.io/system": "chat"}, APPROVED))
    assert allowed == AdmissionDecision(allowed=True, mode="enforce")

    warned = await client.decide(_input({}, None, mode="warn"))
    assert warned.allowed
    assert warned.mode == "warn"
    assert warned.warnings[0].startswith("AIGOV_UNGOVERNED: ")


def _variants() -> list[dict[str, Any]]:
    """The benchmark's AISystem (1,000 bound workloads, suspension history) approved, and broken in each way."""
    obj, status = loadgen.aisystem("support-chatbot", "bench", bound=1000, history=20)
    approval = status["approvals"][0]
    changes: list[dict[str, Any]] = [
        {},
        {"suspension": {**status["suspension"], "active": True}},
        {"approvals": [approval, {**approval, "decision": "revoked"}]},
        {"approvals": [{**approval, "expiresAt": "2026-01-03T00:00:00Z"}]},
        {"approvals": [{**approval, "approver": "support-platform@example.com"}]},
        {"assessments": [{**status["assessments"][0], "expiresAt": "2026-02-01T00:00:00Z"}]},
    ]
    return [
        {**obj, "metadata": {**obj["metadata"], "managedFields": [{"manager": "kubectl"}]}, "status": status | change}
        for change in changes
    ]


async def test_the_trimmed_aisystem_yields_the_same_decisions(client: PolicyClient) -> None:
    """`input.policy_view` drops boundWorkloads, suspensionHistory, conditions: no decision changes."""
    now = datetime.now(UTC)
    codes = set()
    for system in _variants():
        for case in loadgen.CASES:
            request = admission_request(loadgen.deployment(case), "bench")
            document = build(request, system, Namespace("bench"), now)
            assert len(document["aisystem"]["status"]) == 3
            trimmed, full = await client.decide(document), await client.decide(document | {"aisystem": system})
            assert trimmed == full, (case, system["status"])
            codes |= {v.code for v in trimmed.violations}
    expected = {
        "AIGOV_UNGOVERNED",
        "AIGOV_SUSPENDED",
        "AIGOV_APPROVAL_MISSING",
        "AIGOV_ASSESSMENT_EXPIRED",
        "AIGOV_APPROVAL_EXPIRED",
    }
    assert expected <= codes, expected - codes


ALLOW_ALL = 'package aigov.admission\n\ndecision := {"allowed": true, "mode": "enforce"}\n'


async def test_opa_refuses_rewrites_at_run_time(opa: OpaServer, client: PolicyClient) -> None:
    async with httpx.AsyncClient(base_url=opa.url) as http:
        attempts = [
            await http.put("/v1/policies/aigov/admission/decision.rego", content=ALLOW_ALL),
            await http.put("/v1/policies/evil.rego", content=ALLOW_ALL),
            await http.delete("/v1/policies/aigov/admission/decision.rego"),
            await http.put("/v1/data/aigov", json={"admission": {"decision": {"allowed": True}}}),
            await http.get("/v1/policies"),
        ]
    assert [r.status_code for r in attempts] == [401] * len(attempts), [r.text for r in attempts]
    denied = await client.decide(_input({}, None))
    assert [v.code for v in denied.violations] == ["AIGOV_UNGOVERNED"]
    assert await client.unready_reason() is None


async def test_other_bundle_is_not_ready(tmp_path: Path) -> None:
    changed = _copy_of_policies(tmp_path)
    (changed / "aigov" / "admission" / "extra.rego").write_text('package aigov.admission\n\n_extra := "x"\n')
    server = start_opa(tmp_path / "opa", bundle=read_bundle(changed))
    try:
        async with PolicyClient(server.url) as policy_client:
            reason = await policy_client.unready_reason()
            assert reason is not None
            assert read_bundle(changed).sha256 in reason
            assert f"sha256 {policy_client.bundle.sha256}" in reason
    finally:
        server.server.stop()


async def test_bundle_with_another_configuration_is_not_ready(tmp_path: Path) -> None:
    """The configuration is bundle data inside the sha256: OPA holding other settings makes the webhook unready."""
    other = Config(default_enforcement=EnforcementMode.WARN)
    assert read_bundle(config=other).sha256 != read_bundle().sha256
    assert read_bundle(config=other).modules == read_bundle().modules
    server = start_opa(tmp_path / "opa", bundle=read_bundle(config=other))
    try:
        async with PolicyClient(server.url) as policy_client:
            reason = await policy_client.unready_reason()
            assert reason is not None
            assert read_bundle(config=other).sha256 in reason
        async with PolicyClient(server.url, bundle=read_bundle(config=other)) as policy_client:
            assert await policy_client.unready_reason() is None
            # the decision follows the configuration OPA holds, though the input carries none
            decision = await policy_client.decide(_input({}, None))
            assert "config" not in _input({}, None)
            assert decision.allowed
            assert [v.code for v in decision.violations] == ["AIGOV_UNGOVERNED"]
    finally:
        server.server.stop()


async def test_bundle_without_configuration_decides_nothing(tmp_path: Path) -> None:
    """An OPA holding the policies but no data.aigov.config answers undefined: a deny, never an allow."""
    shipped = read_bundle()
    bare = Bundle(shipped.modules, shipped.sha256)
    server = start_opa(tmp_path / "opa", bundle=bare)
    try:
        async with PolicyClient(server.url, bundle=bare) as policy_client:
            _assert_unavailable(await policy_client.decide(_input({}, None)), "undefined")
            assert "undefined" in str(await policy_client.unready_reason())
    finally:
        server.server.stop()


def test_bundle_command_writes_the_configuration(tmp_path: Path) -> None:
    """`python -m aigov.policy.bundle --config FILE` (the chart's init container) writes that configuration."""
    config_file = tmp_path / "config.yaml"
    config_file.write_text("defaultEnforcement: warn\n")
    out = tmp_path / "bundle"
    run = subprocess.run(
        [sys.executable, "-m", "aigov.policy.bundle", f"--out={out}", f"--config={config_file}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    expected = read_bundle(config=Config(default_enforcement=EnforcementMode.WARN))
    assert expected.sha256 in run.stdout
    assert json.loads((out / "data.json").read_text()) == {"aigov": {"config": expected.data["aigov"]["config"]}}
    assert json.loads((out / ".manifest").read_text())["revision"] == expected.sha256
    config_file.write_text("defaultEnforcement: sometimes\n")
    run = subprocess.run(
        [sys.executable, "-m", "aigov.policy.bundle", f"--out={out}", f"--config={config_file}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert f"error: configuration {config_file} is invalid: defaultEnforcement" in run.stderr
    assert "Traceback" not in run.stderr


def test_broken_bundle_names_the_file(tmp_path: Path) -> None:
    broken = _copy_of_policies(tmp_path)
    (broken / "aigov" / "broken.rego").write_text("package aigov.broken\n\nallow if {\n")
    with pytest.raises(ServerError, match=r"broken\.rego"):
        start_opa(tmp_path / "opa", bundle=read_bundle(broken))


def test_missing_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PolicyError, match=f"no aigov policies found: no policy files .* under {tmp_path}"):
        read_bundle(tmp_path)
    monkeypatch.setenv(POLICY_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(PolicyError, match="nowhere"):
        read_bundle()


def _assert_unavailable(decision: AdmissionDecision, reason: str) -> None:
    assert not decision.allowed
    assert [v.code for v in decision.violations] == [UNAVAILABLE]
    assert reason in decision.violations[0].message


async def test_opa_stopped_means_deny(tmp_path: Path) -> None:
    server = start_opa(tmp_path)
    try:
        async with PolicyClient(server.url) as policy_client:
            assert (await policy_client.decide(_input({}, None))).violations[0].code == "AIGOV_UNGOVERNED"
            server.server.stop()
            _assert_unavailable(await policy_client.decide(_input({"aigov.io/system": "chat"}, APPROVED)), "failed")
            assert "did not report its bundles" in str(await policy_client.unready_reason())
    finally:
        server.server.stop()


async def test_policies_missing_means_deny(tmp_path: Path) -> None:
    authz_only = Bundle({"system/authz.rego": (policy_dir() / "system" / "authz.rego").read_text()}, "0" * 64)
    server = start_opa(tmp_path, bundle=authz_only)
    try:
        async with PolicyClient(server.url, bundle=authz_only) as policy_client:
            _assert_unavailable(await policy_client.decide(_input({}, None)), "undefined")
            assert "undefined" in str(await policy_client.unready_reason())
    finally:
        server.server.stop()


async def test_malformed_input_means_deny(client: PolicyClient) -> None:
    _assert_unavailable(await client.decide({"request": {"operation": "CREATE"}}), "undefined")


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_timeout_means_deny_without_retries() -> None:
    connections = 0

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await asyncio.sleep(5)
        writer.close()

    server, url = await _serve(hang)
    async with server, PolicyClient(url, timeout=0.2) as policy_client:
        started = asyncio.get_running_loop().time()
        _assert_unavailable(await policy_client.decide(_input({}, None)), "did not answer in time")
        assert asyncio.get_running_loop().time() - started < 1.0
    assert connections == 1


async def test_server_error_means_deny() -> None:
    async def fail(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server, url = await _serve(fail)
    async with server, PolicyClient(url) as policy_client:
        _assert_unavailable(await policy_client.decide(_input({}, None)), "500")


async def test_malformed_decision_means_deny() -> None:
    async def lie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"result": {"allowed": "yes"}}'
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server, url = await _serve(lie)
    async with server, PolicyClient(url) as policy_client:
        _assert_unavailable(await policy_client.decide(_input({}, None)), "malformed decision")


def test_bad_url() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        PolicyClient("localhost:8181")
