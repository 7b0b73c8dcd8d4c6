"""The webhook's HTTP face: FastAPI routes over `Admission`, plus health and readiness.

`POST /validate` (workloads) and `POST /validate-aisystem` (AISystems) take an
AdmissionReview v1 and answer 200 with the decision, 400 with the reason
when the body is not one, or 413 when it is larger than the limit (read no
further than the limit, never parsed). `GET /healthz` says the process serves;
`GET /readyz` answers JSON: 200 once OPA holds the webhook's own policy bundle
and the caches synced, else 503 with the reason; both carry the bundle's version
and sha256.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import orjson
from fastapi import FastAPI, Request, Response

from aigov.install.admission import AISYSTEMS_PATH, WORKLOADS_PATH
from aigov.webhook.admission import Admission
from aigov.webhook.review import MalformedReviewError

JSON = "application/json"
MAX_BODY_BYTES = 3 * 1024 * 1024
"""The API server's own request limit (3 MiB): a review carrying a larger object cannot be genuine."""

Readiness = Callable[[], Awaitable[tuple[str | None, dict[str, str]]]]
"""(None when ready, else why not; detail such as the policy bundle's version and sha256)."""


def create_app(
    admission: Admission,
    readiness: Readiness,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The ASGI app; `lifespan` starts and stops what the routes depend on."""
    app = FastAPI(title="aigov webhook", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    def refuse(status: int, error: str, reason: str) -> Response:
        return Response(orjson.dumps({"error": error, "reason": reason}), status_code=status, media_type=JSON)

    async def read_body(request: Request) -> bytes | None:
        """The body, or None once it exceeds `max_body_bytes` (by its Content-Length or as it streams)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            return None
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                return None
        return bytes(body)

    async def answer(request: Request, aisystem_route: bool) -> Response:
        body = await read_body(request)
        if body is None:
            reason = f"the body is larger than {max_body_bytes} bytes, the webhook's limit (--max-body-bytes)"
            return refuse(413, "AdmissionReview too large", reason)
        try:
            content = await admission.review(body, aisystem_route=aisystem_route)
        except MalformedReviewError as exc:
            return refuse(400, "malformed AdmissionReview", str(exc))
        return Response(content, media_type=JSON)

    @app.post(WORKLOADS_PATH)
    async def validate(request: Request) -> Response:
        """Admission of workloads (Pods, controllers, scale, InferenceServices)."""
        return await answer(request, aisystem_route=False)

    @app.post(AISYSTEMS_PATH)
    async def validate_aisystem(request: Request) -> Response:
        """Admission of AISystems."""
        return await answer(request, aisystem_route=True)

    @app.get("/healthz")
    async def healthz() -> Response:
        """The process is up and serving."""
        return Response(b"ok", media_type="text/plain")

    @app.get("/readyz")
    async def readyz() -> Response:
        """Ready only when OPA holds this webhook's policy bundle and the AISystem cache has synced."""
        reason, detail = await readiness()
        body = {"ready": reason is None, **({"reason": reason} if reason else {}), **detail}
        return Response(orjson.dumps(body), status_code=200 if reason is None else 503, media_type=JSON)

    return app
