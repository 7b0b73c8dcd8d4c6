"""AdmissionReview v1 in and out: check the envelope, turn a decision into the response.

Pure functions. A body that is not an AdmissionReview v1 raises `MalformedReviewError`
(the route answers HTTP 400 with its message); a decision is always answered with
HTTP 200, the request's `uid` echoed, and on deny `status.code` 403 with a message
that lists every violation code with its fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
MAX_WARNING_CHARS = 120
MAX_DEPTH = 200
"""Deepest nesting of objects and arrays a review may carry (Kubernetes objects stay far below it)."""
_OPERATIONS = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})


class MalformedReviewError(ValueError):
    """The body is not a usable AdmissionReview v1; the message says why."""


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise MalformedReviewError(reason)


def _encoder_depth_limit(ceiling: int = 4 * MAX_DEPTH) -> int:
    """The deepest nesting of arrays orjson encodes (254 in orjson 3), found once by probing.

    An orjson that encodes `ceiling` levels (or fewer than MAX_DEPTH) cannot serve as the depth check.
    """
    value: list[Any] = []
    for depth in range(1, ceiling + 1):
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            if depth - 1 < MAX_DEPTH:
                break
            return depth - 1
        value = [value]
    raise ImportError(f"orjson {orjson.__version__} has no nesting limit between {MAX_DEPTH} and {ceiling} levels")


_HEADROOM = _encoder_depth_limit() - MAX_DEPTH
"""Arrays wrapped around a review so that orjson's encoder fails exactly when the review nests deeper than
MAX_DEPTH: the check runs in orjson's C (about 10 µs for an 8 KB review, a Python walk took 100-150 µs)."""


def _too_deep(value: Any) -> bool:
    """Whether objects and arrays nest in `value` deeper than MAX_DEPTH levels."""
    for _ in range(_HEADROOM):
        value = [value]
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return True
    return False


def parse(body: bytes) -> dict[str, Any]:
    """The `request` of an AdmissionReview v1 body, unchanged, once its envelope is sound."""
    try:
        review = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedReviewError(f"body is not JSON: {exc}") from exc
    if not isinstance(review, dict):
        raise MalformedReviewError("body is not a JSON object")
    _require(not _too_deep(review), f"body nests objects and arrays deeper than {MAX_DEPTH} levels")
    _require(
        review.get("apiVersion") == API_VERSION and review.get("kind") == KIND,
        f"expected apiVersion {API_VERSION} and kind {KIND}, got {review.get('apiVersion')!r} {review.get('kind')!r}",
    )
    request = review.get("request")
    if not isinstance(request, dict):
        raise MalformedReviewError("AdmissionReview has no request object")
    _require(isinstance(request.get("uid"), str) and request["uid"] != "", "request.uid is missing")
    for field, key in (("kind", "kind"), ("resource", "resource")):
        gvk = request.get(field)
        if not isinstance(gvk, dict):
            raise MalformedReviewError(f"request.{field} is missing")
        for part in ("group", "version", key):
            _require(isinstance(gvk.get(part), str), f"request.{field}.{part} is missing or not a string")
        _require(gvk[key] != "", f"request.{field}.{key} is empty")
    operation = request.get("operation")
    _require(isinstance(operation, str) and operation in _OPERATIONS, f"request.operation {operation!r} is unknown")
    _require(isinstance(request.get("userInfo"), dict), "request.userInfo is missing")
    for field in ("object", "oldObject"):
        obj = request.get(field)
        _require(obj is None or isinstance(obj, dict), f"request.{field} is not an object")
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        _require(metadata is None or isinstance(metadata, dict), f"request.{field}.metadata is not an object")
    for field in ("namespace", "name", "subResource"):
        _require(request.get(field) is None or isinstance(request[field], str), f"request.{field} is not a string")
    return request


def _warning(text: str) -> str:
    return text if len(text) <= MAX_WARNING_CHARS else text[: MAX_WARNING_CHARS - 3] + "..."


def _envelope(uid: str, response: dict[str, Any]) -> bytes:
    return orjson.dumps({"apiVersion": API_VERSION, "kind": KIND, "response": {"uid": uid, **response}})


def allow(uid: str, warnings: Iterable[str] = ()) -> bytes:
    """An allowing response; each warning cut to 120 characters."""
    response: dict[str, Any] = {"allowed": True}
    cut = [_warning(text) for text in warnings]
    if cut:
        response["warnings"] = cut
    return _envelope(uid, response)


def deny(uid: str, message: str, warnings: Iterable[str] = ()) -> bytes:
    """A denying response: HTTP status 403 and `message`."""
    response: dict[str, Any] = {
        "allowed": False,
        "status": {"code": 403, "reason": "Forbidden", "message": message},
    }
    cut = [_warning(text) for text in warnings]
    if cut:
        response["warnings"] = cut
    return _envelope(uid, response)


def violation_line(violation: Mapping[str, Any]) -> str:
    """`CODE [control]: message` for one violation."""
    control = violation.get("control")
    where = f" [ISO/IEC 42001 {control}]" if control else ""
    return f"{violation.get('code', 'AIGOV_UNKNOWN')}{where}: {violation.get('message', '')}"


def denial_message(subject: str, violations: Sequence[Mapping[str, Any]]) -> str:
    """The deny message: the subject, then one line per violation code and its fix."""
    count = len(violations)
    lines = "\n".join(f"- {violation_line(v)}" for v in violations)
    return f"aigov denied {subject} ({count} violation{'s' if count != 1 else ''}):\n{lines}"


def subject(request: Mapping[str, Any]) -> str:
    """How a deny message names the object, e.g. `Deployment team-a/llm` or `Deployment team-a/llm (scale)`."""
    kind = request["kind"]["kind"]
    metadata = (request.get("object") or {}).get("metadata")
    generated = metadata.get("name") if isinstance(metadata, dict) else None
    name = request.get("name") or (generated if isinstance(generated, str) else "") or "(generated name)"
    namespace = request.get("namespace")
    target = f"{namespace}/{name}" if namespace else name
    sub = f" ({request['subResource']})" if request.get("subResource") else ""
    return f"{kind} {target}{sub}"
