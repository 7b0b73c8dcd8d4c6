"""The decision client: decisions from a real OPA that holds the aigov policy bundle.

OPA loads the bundle from disk (`opa run --server --bundle DIR --authorization=basic`,
see `aigov.policy.bundle` and `aigov.policy.opa_process`); this client never writes
to OPA. One long-lived session (opa-python-client's `AsyncOpaClient`), a short
timeout and no retries: an admission that waits on a struggling OPA only makes
the API server time out. Whatever goes wrong (OPA down or slow, policies not
loaded, an undefined or malformed result) the decision is a deny with the code
`AIGOV_POLICY_UNAVAILABLE`, never an allow. Readiness also demands that the
bundle OPA holds is the one this process ships: same sha256 as its revision.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import orjson
from opa_client.opa_async import AsyncOpaClient
from pydantic import ValidationError

from aigov.policy import input as policy_input
from aigov.policy.bundle import Bundle, PolicyError, read_bundle
from aigov.policy.decision import UNAVAILABLE, UNAVAILABLE_CONTROL, AdmissionDecision, Violation

__all__ = [
    "UNAVAILABLE",
    "UNAVAILABLE_CONTROL",
    "AdmissionDecision",
    "PolicyClient",
    "PolicyError",
    "Violation",
]

log = logging.getLogger(__name__)

PACKAGE = "aigov.admission"
RULE = "decision"
DEFAULT_TIMEOUT = 1.0
_JSON = {"Content-Type": "application/json"}
BUNDLES = "system/bundles"
"""Where OPA reports the manifests of the bundles it holds (`GET /v1/data/system/bundles`)."""


def _probe_input() -> dict[str, Any]:
    """A DELETE review: defined, and allowed, exactly when the policies are loaded."""
    request = {"uid": "aigov-readiness-probe", "operation": "DELETE", "namespace": "default", "name": "probe"}
    namespace = policy_input.Namespace("default")
    return policy_input.build(request, None, namespace, datetime.now(UTC))


class PolicyClient:
    """Decisions from one OPA server over one session; use as an async context manager."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT, bundle: Bundle | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OPA URL must look like http://host:port, not {url!r}")
        default_port = 443 if parts.scheme == "https" else 8181
        self.url = url
        self.bundle = bundle or read_bundle()
        self._opa = AsyncOpaClient(
            host=parts.hostname,
            port=parts.port or default_port,
            ssl=parts.scheme == "https",
            retries=0,
            timeout=timeout,
        )

    async def __aenter__(self) -> PolicyClient:
        await self._opa.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._opa.close_connection()

    async def held_revisions(self) -> set[str]:
        """The revisions of the bundles OPA holds (empty when it holds none); PolicyError when it won't say."""
        try:
            response = await self._opa.get_data(BUNDLES)
        except Exception as exc:  # connection refused, 401/403, bad JSON: OPA cannot vouch for its bundle
            reason = str(exc) or type(exc).__name__
            raise PolicyError(f"OPA at {self.url} did not report its bundles: {reason}") from exc
        bundles = response.get("result")
        if not isinstance(bundles, dict):
            return set()
        return {
            str(entry.get("manifest", {}).get("revision", ""))
            for entry in bundles.values()
            if isinstance(entry, dict) and isinstance(entry.get("manifest"), dict)
        }

    async def unready_reason(self) -> str | None:
        """None when OPA holds exactly this bundle (same sha256) and decides a probe; else why not."""
        try:
            revisions = await self.held_revisions()
        except PolicyError as exc:
            return str(exc)
        if revisions != {self.bundle.sha256}:
            held = ", ".join(sorted(revisions)) or "no bundle"
            return (
                f"OPA at {self.url} holds {held}, not the policy bundle this aigov ships "
                f"({self.bundle.version}, sha256 {self.bundle.sha256})"
            )
        decision = await self._query(_probe_input())
        if isinstance(decision, str):
            return decision
        return None if decision.allowed else f"OPA at {self.url} denied the readiness probe: {decision.violations}"

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision:
        """The decision for the input `document` (see `aigov.policy.input.build`)."""
        result = await self._query(document)
        if isinstance(result, str):
            log.warning("policy decision unavailable: %s", result)
            return AdmissionDecision.unavailable(result)
        return result

    async def _post_query(self, body: bytes) -> Any:
        """POST the encoded input to the decision path over the client's session; the decoded answer.

        opa-python-client's `query_rule` encodes with the stdlib `json` (11% of the
        webhook's CPU under load); orjson encodes and decodes several times faster.
        """
        url = f"{self._opa.root_url}/data/{PACKAGE.replace('.', '/')}/{RULE}"
        async with self._opa._request("POST", url, data=body, headers=_JSON) as response:
            response.raise_for_status()
            return orjson.loads(await response.read())

    async def _query(self, document: dict[str, Any]) -> AdmissionDecision | str:
        """The decision, or why there is none."""
        try:
            response = await self._post_query(orjson.dumps({"input": document}))
        except TimeoutError:
            return f"OPA at {self.url} did not answer in time"
        except Exception as exc:  # connection refused, HTTP errors, bad JSON: all mean no decision
            return f"OPA at {self.url} failed: {str(exc) or type(exc).__name__}"
        if not isinstance(response, dict) or "result" not in response:
            return "the decision is undefined: are the aigov policies loaded?"
        try:
            return AdmissionDecision.model_validate(response["result"])
        except ValidationError as exc:
            return f"malformed decision from OPA: {exc.error_count()} problem(s)"
