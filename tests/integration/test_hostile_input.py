"""Hostile and malformed input against the webhook app in-process, deciding with the real OPA and policies.

Properties (hypothesis): whatever the body, the answer is HTTP 400 or 413 with a
reason, or a review response echoing the uid; an allow only ever comes from an
allowing policy decision, never from a parse error or an internal error; a
workload that names an AISystem is denied, with codes, whatever that AISystem
object holds and whatever its image reference says. Run with
`--hypothesis-show-statistics` to see how many inputs each property tried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigov.core.config import Config
from aigov.policy import input as policy_input
from aigov.policy.opa import UNAVAILABLE, AdmissionDecision, PolicyClient
from aigov.webhook import review
from aigov.webhook.admission import Admission
from aigov.webhook.app import MAX_BODY_BYTES, create_app
from devkit.devcluster import OpaServer

REPO = Path(__file__).resolve().parents[2]
SYSTEM = yaml.safe_load((REPO / "samples" / "minimal-chatbot.yaml").read_text())
HOSTILE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _workload(labels: dict[str, Any], image: Any) -> dict[str, Any]:
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "model", "image": image}]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "chat", "namespace": "ml", "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "chat"}}, "template": template},
    }


def _review(obj: dict[str, Any]) -> dict[str, Any]:
    request = policy_input.admission_request(obj, "ml")
    request.update(uid="hostile-1", userInfo={"username": "dev"}, dryRun=False)
    return {"apiVersion": review.API_VERSION, "kind": review.KIND, "request": request}


UNGOVERNED = _review(_workload({"app": "chat"}, "vllm/vllm-openai:v0.8.0"))
GOVERNED = _review(_workload({"app": "chat", "aigov.io/system": SYSTEM["metadata"]["name"]}, "ollama/ollama:0.6.8"))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into `value`, the root included."""
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(copy[path[0]], path[1:], new)
    return copy


def mutated(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """`base` with a value of any JSON type at any one path (wrong types at every level)."""
    return st.tuples(st.sampled_from(list(_paths(base))), json_values).map(lambda pn: _replace(base, *pn))


@dataclass
class HostileCluster:
    """The cluster as the cache would show it: `aisystem` is whatever object the test puts there."""

    aisystem_object: Any = None

    async def aisystem(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.aisystem_object  # type: ignore[no-any-return]

    async def namespace(self, name: str) -> dict[str, Any]:
        return {"labels": {}}

    async def scale_target(self, request: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def namespace_exceptions(self, namespace: str) -> list[dict[str, Any]]:
        return []


@dataclass
class Recording:
    """The real OPA client, remembering the decisions it gave."""

    policy: PolicyClient
    decisions: list[AdmissionDecision] = field(default_factory=list)

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision:
        decision = await self.policy.decide(document)
        self.decisions.append(decision)
        return decision


@dataclass
class Webhook:
    """The FastAPI app over the real OPA, driven from its own event loop."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    cluster: HostileCluster
    decider: Recording

    def post(self, body: bytes, path: str = "/validate", aisystem: Any = None) -> httpx.Response:
        self.cluster.aisystem_object = aisystem
        self.decider.decisions.clear()
        return self.loop.run_until_complete(self.client.post(path, content=body))


@pytest.fixture(scope="module")
def webhook(opa: OpaServer) -> Iterator[Webhook]:
    loop = asyncio.new_event_loop()
    policy = PolicyClient(opa.url, timeout=10)
    loop.run_until_complete(policy.__aenter__())
    cluster, decider = HostileCluster(), Recording(policy)

    async def ready() -> tuple[str | None, dict[str, str]]:
        return None, {}

    app = create_app(Admission(cluster, decider, Config()), ready)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://webhook")
    yield Webhook(loop, client, cluster, decider)
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(policy.__aexit__(None, None, None))
    loop.close()


def _judge(webhook: Webhook, response: httpx.Response, *, aisystem_route: bool = False) -> dict[str, Any] | None:
    """Check the universal properties; the review response when there was one."""
    assert response.status_code in (200, 400, 413), response.text
    if response.status_code != 200:
        assert response.json()["reason"], "a refusal says why"
        assert not webhook.decider.decisions, "a refused body never reaches the policy"
        return None
    answer: dict[str, Any] = response.json()["response"]
    message = answer.get("status", {}).get("message", "")
    assert "internal error" not in message, message
    assert UNAVAILABLE not in message, f"OPA gave no decision: {message}"
    [decision] = webhook.decider.decisions
    if answer["allowed"]:
        assert decision.allowed or (aisystem_route and answer.get("warnings")), "an allow comes from the policy"
    else:
        assert message.startswith("aigov denied ") and "AIGOV_" in message, message
    return answer


@HOSTILE
@given(body=st.binary(max_size=512))
def test_any_bytes_are_refused_or_judged(webhook: Webhook, body: bytes) -> None:
    _judge(webhook, webhook.post(body))


@HOSTILE
@given(cut=st.integers(min_value=0, max_value=len(orjson.dumps(UNGOVERNED)) - 1))
def test_a_truncated_review_is_refused_with_a_reason(webhook: Webhook, cut: int) -> None:
    response = webhook.post(orjson.dumps(UNGOVERNED)[:cut])
    assert response.status_code == 400
    _judge(webhook, response)


@HOSTILE
@given(body=mutated(UNGOVERNED))
def test_wrong_types_at_every_level_never_allow_an_ungoverned_model_server(webhook: Webhook, body: Any) -> None:
    answer = _judge(webhook, webhook.post(orjson.dumps(body)))
    if answer is None:
        return
    request, original = body["request"], UNGOVERNED["request"]
    if all(request.get(key) == original[key] for key in ("object", "kind", "operation", "namespace")):
        assert answer["allowed"] is False, "the same ungoverned vLLM Deployment"


@HOSTILE
@given(aisystem=mutated(SYSTEM) | st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_a_hostile_aisystem_object_never_admits_its_workload(webhook: Webhook, aisystem: Any) -> None:
    answer = _judge(webhook, webhook.post(orjson.dumps(GOVERNED), aisystem=aisystem))
    assert answer is not None and answer["allowed"] is False


@HOSTILE
@given(aisystem=mutated(SYSTEM))
def test_a_hostile_aisystem_review_is_judged(webhook: Webhook, aisystem: Any) -> None:
    obj = aisystem if isinstance(aisystem, dict) else {"spec": aisystem}
    body = _review({**obj, "apiVersion": "aigov.io/v1alpha1", "kind": "AISystem"})
    _judge(webhook, webhook.post(orjson.dumps(body), "/validate-aisystem"), aisystem_route=True)


@HOSTILE
@given(image=json_values | st.text() | st.from_regex(r"[a-z./:@-]{0,20}@sha256:[0-9a-f]{0,70}", fullmatch=True))
def test_odd_image_references_on_a_governed_workload_are_denied(webhook: Webhook, image: Any) -> None:
    body = _review(_workload({"app": "chat", "aigov.io/system": SYSTEM["metadata"]["name"]}, image))
    answer = _judge(webhook, webhook.post(orjson.dumps(body), aisystem=SYSTEM))
    assert answer is not None and answer["allowed"] is False


@HOSTILE
@given(group=st.text(max_size=20), version=st.text(max_size=10), kind=st.text(max_size=20), obj=json_values)
def test_unknown_kinds_and_versions_are_judged(webhook: Webhook, group: str, version: str, kind: str, obj: Any) -> None:
    body = orjson.loads(orjson.dumps(UNGOVERNED))
    gvk = {"group": group, "version": version, "kind": kind}
    body["request"].update(
        kind=gvk, requestKind=gvk, object={"apiVersion": f"{group}/{version}", "kind": kind, "spec": obj}
    )
    _judge(webhook, webhook.post(orjson.dumps(body)))


def test_a_body_over_the_limit_is_refused_before_parsing(webhook: Webhook) -> None:
    body = orjson.loads(orjson.dumps(UNGOVERNED))
    body["request"]["object"]["metadata"]["annotations"] = {"blob": "x" * MAX_BODY_BYTES}
    response = webhook.post(orjson.dumps(body))
    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json()["reason"]
    body["request"]["object"]["metadata"]["annotations"] = {"blob": "x" * (MAX_BODY_BYTES - 10_000)}
    answer = _judge(webhook, webhook.post(orjson.dumps(body)))
    assert answer is not None and answer["allowed"] is False, "just under the limit: judged, and denied"


def test_a_body_without_content_length_is_cut_at_the_limit(webhook: Webhook) -> None:
    chunks = [b'{"apiVersion": "admission.k8s.io/v1", "padding": "', b"x" * MAX_BODY_BYTES, b'"}']

    async def stream() -> Any:
        for chunk in chunks:
            yield chunk

    response = webhook.loop.run_until_complete(webhook.client.post("/validate", content=stream()))
    assert response.status_code == 413


def _nested(depth: int) -> bytes:
    """The ungoverned review with `depth` levels of arrays in its spec."""
    body = orjson.loads(orjson.dumps(UNGOVERNED))
    body["request"]["object"]["spec"]["nested"] = "bottom"
    return orjson.dumps(body).replace(b'"bottom"', b"[" * depth + b"]" * depth)


def test_deep_nesting_is_judged_below_the_limit_and_refused_past_it(webhook: Webhook) -> None:
    answer = _judge(webhook, webhook.post(_nested(review.MAX_DEPTH - 10)))
    assert answer is not None and answer["allowed"] is False
    for depth, reason in ((review.MAX_DEPTH, "deeper than 200 levels"), (5000, "body is not JSON")):
        response = webhook.post(_nested(depth))
        assert response.status_code == 400
        assert reason in response.json()["reason"]


def test_the_input_builder_is_total_on_hostile_manifests() -> None:
    @settings(max_examples=500, deadline=None)
    @given(obj=(json_values | mutated(UNGOVERNED["request"]["object"])).filter(lambda v: isinstance(v, dict)))
    def build(obj: Any) -> None:
        request = policy_input.admission_request(obj, "ml")
        document = policy_input.build(request, None, policy_input.Namespace("ml"), datetime.now(UTC))
        orjson.dumps(document)
        policy_input.system_ref(request, Config())

    build()
