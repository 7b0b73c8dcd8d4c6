"""AdmissionReview parsing and the response mapping."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from aigov.webhook import review


def _body(**request: Any) -> bytes:
    base: dict[str, Any] = {
        "uid": "u-1",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "namespace": "team",
        "name": "llm",
        "object": {"metadata": {"name": "llm"}},
    }
    return orjson.dumps({"apiVersion": review.API_VERSION, "kind": review.KIND, "request": {**base, **request}})


def test_parse_returns_the_request_unchanged() -> None:
    request = review.parse(_body(extra={"kept": True}))
    assert request["uid"] == "u-1"
    assert request["extra"] == {"kept": True}


def _nest(depth: int) -> Any:
    nested: Any = 1
    for _ in range(depth):
        nested = [nested]
    return nested


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "body is not JSON"),
        (b'"text"', "body is not a JSON object"),
        (orjson.dumps({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}), "expected apiVersion"),
        (orjson.dumps({"apiVersion": review.API_VERSION, "kind": review.KIND, "request": []}), "no request object"),
        (_body(uid=""), "request.uid is missing"),
        (_body(kind={"group": "apps", "version": "v1"}), "request.kind.kind is missing"),
        (_body(kind={"kind": "Deployment", "version": "v1"}), "request.kind.group is missing"),
        (_body(resource=None), "request.resource is missing"),
        (_body(resource={"group": "apps", "version": "v1", "resource": ""}), "request.resource.resource is empty"),
        (_body(operation=["CREATE"]), "request.operation \\['CREATE'\\] is unknown"),
        (b"[" * 300 + b"]" * 300, "body is not a JSON object"),
        (orjson.dumps({"apiVersion": review.API_VERSION, "x": _nest(200)}), "deeper than 200"),
        (_body(operation="PATCH"), "request.operation 'PATCH' is unknown"),
        (_body(userInfo=None), "request.userInfo is missing"),
        (_body(object=[1]), "request.object is not an object"),
        (_body(namespace=3), "request.namespace is not a string"),
    ],
)
def test_parse_rejects_what_is_not_a_review(body: bytes, reason: str) -> None:
    with pytest.raises(review.MalformedReviewError, match=reason):
        review.parse(body)


def test_the_depth_limit_is_exact() -> None:
    at_limit = orjson.dumps({"apiVersion": review.API_VERSION, "x": _nest(review.MAX_DEPTH - 1)})
    with pytest.raises(review.MalformedReviewError, match="expected apiVersion"):
        review.parse(at_limit)
    past = orjson.dumps({"apiVersion": review.API_VERSION, "x": _nest(review.MAX_DEPTH)})
    with pytest.raises(review.MalformedReviewError, match="deeper than 200"):
        review.parse(past)


def test_an_orjson_without_a_usable_nesting_limit_is_refused_at_import() -> None:
    assert review._encoder_depth_limit() - review.MAX_DEPTH == review._HEADROOM > 0
    with pytest.raises(ImportError, match="no nesting limit"):
        review._encoder_depth_limit(ceiling=review.MAX_DEPTH + 10)


def test_allow_echoes_uid_and_cuts_warnings() -> None:
    answer = orjson.loads(review.allow("u-1", ["short", "x" * 200]))
    assert answer["apiVersion"] == review.API_VERSION
    assert answer["kind"] == review.KIND
    response = answer["response"]
    assert response["uid"] == "u-1"
    assert response["allowed"] is True
    assert response["warnings"][0] == "short"
    assert len(response["warnings"][1]) == review.MAX_WARNING_CHARS
    assert response["warnings"][1].endswith("...")


def test_allow_without_warnings_sends_none() -> None:
    assert "warnings" not in orjson.loads(review.allow("u-1"))["response"]


def test_deny_is_403_with_every_code_and_fix() -> None:
    violations = [
        {"code": "AIGOV_ASSESSMENT_MISSING", "message": "record one: kubectl aigov assess x", "control": "A.5.2"},
        {"code": "AIGOV_APPROVAL_MISSING", "message": "record one: kubectl aigov approve x", "control": "A.6.2.5"},
    ]
    message = review.denial_message("Deployment team/llm", violations)
    response = orjson.loads(review.deny("u-2", message))["response"]
    assert response["uid"] == "u-2"
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert response["status"]["message"] == (
        "aigov denied Deployment team/llm (2 violations):\n"
        "- AIGOV_ASSESSMENT_MISSING [ISO/IEC 42001 A.5.2]: record one: kubectl aigov assess x\n"
        "- AIGOV_APPROVAL_MISSING [ISO/IEC 42001 A.6.2.5]: record one: kubectl aigov approve x"
    )


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        ({}, "Deployment team/llm"),
        ({"name": "", "object": {"metadata": {"generateName": "llm-"}}}, "Deployment team/(generated name)"),
        (
            {"kind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "subResource": "scale"},
            "Scale team/llm (scale)",
        ),
    ],
)
def test_subject_names_the_object(request_fields: dict[str, Any], expected: str) -> None:
    assert review.subject(review.parse(_body(**request_fields))) == expected
