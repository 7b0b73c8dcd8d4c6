"""`aigov.policy.opa` against a real OPA: loading, readiness, decisions, and failing closed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigov.core.config import Config
from aigov.policy.input import Namespace, admission_request, build
from aigov.policy.opa import UNAVAILABLE, AdmissionDecision, PolicyClient, PolicyError, policy_dir, read_bundle
from devkit.devcluster import OpaServer, start_opa

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
    return build(admission_request(_deployment(labels), "ml"), system, namespace, Config(), NOW)


@pytest.fixture
async def client(opa: OpaServer) -> AsyncIterator[PolicyClient]:
    async with PolicyClient(opa.url) as policy_client:
        await policy_client.load_policies()
        yield policy_client


async def test_load_records_the_bundle_and_becomes_ready(opa: OpaServer) -> None:
    async with PolicyClient(opa.url) as policy_client:
        assert not await policy_client.ready(), "not ready before this client loaded the bundle"
        bundle = await policy_client.load_policies()
        assert await policy_client.ready()
    expected = read_bundle(policy_dir())
    assert bundle == expected
    assert len(bundle.sha256) == 64
    assert set(bundle.modules) >= {"aigov/admission/decision.rego", "aigov/admission/violations.rego"}
    assert not any(name.endswith("_test.rego") for name in bundle.modules)


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


async def test_reload_replaces_stale_modules(opa: OpaServer, client: PolicyClient, tmp_path: Path) -> None:
    bundle_dir = tmp_path / "policies"
    shutil.copytree(policy_dir(), bundle_dir)
    extra = bundle_dir / "aigov" / "admission" / "extra.rego"
    extra.write_text('package aigov.admission\n\n_extra_marker := "loaded"\n')
    await client.load_policies(bundle_dir)
    assert "aigov/admission/extra.rego" in _policy_ids(opa)
    extra.unlink()
    await client.load_policies(bundle_dir)
    assert "aigov/admission/extra.rego" not in _policy_ids(opa)
    assert await client.ready()


def _policy_ids(opa: OpaServer) -> set[str]:
    return {p["id"] for p in httpx.get(f"{opa.url}/v1/policies").json()["result"]}


async def test_refused_policy_names_the_file(opa: OpaServer, tmp_path: Path) -> None:
    broken = tmp_path / "policies" / "aigov" / "broken.rego"
    broken.parent.mkdir(parents=True)
    broken.write_text("package aigov.broken\n\nallow if {\n")
    async with PolicyClient(opa.url) as policy_client:
        with pytest.raises(PolicyError, match=r"aigov/broken\.rego"):
            await policy_client.load_policies(tmp_path / "policies")
        assert not await policy_client.ready()


def test_missing_bundle(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no policy files"):
        read_bundle(tmp_path)


def _assert_unavailable(decision: AdmissionDecision, reason: str) -> None:
    assert not decision.allowed
    assert [v.code for v in decision.violations] == [UNAVAILABLE]
    assert reason in decision.violations[0].message


async def test_opa_stopped_means_deny(tmp_path: Path) -> None:
    server = start_opa(tmp_path)
    try:
        async with PolicyClient(server.url) as policy_client:
            await policy_client.load_policies()
            assert (await policy_client.decide(_input({}, None))).violations[0].code == "AIGOV_UNGOVERNED"
            server.server.stop()
            _assert_unavailable(await policy_client.decide(_input({"aigov.io/system": "chat"}, APPROVED)), "failed")
            assert not await policy_client.ready()
    finally:
        server.server.stop()


async def test_policies_not_loaded_means_deny(tmp_path: Path) -> None:
    server = start_opa(tmp_path)
    try:
        async with PolicyClient(server.url) as policy_client:
            _assert_unavailable(await policy_client.decide(_input({}, None)), "undefined")
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
