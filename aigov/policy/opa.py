"""The decision client: the policy bundle loaded into a real OPA, and decisions from it.

One long-lived session to OPA (opa-python-client's `AsyncOpaClient`), a short
timeout and no retries: an admission that waits on a struggling OPA only makes
the API server time out. Whatever goes wrong (OPA down or slow, policies not
loaded, an undefined or malformed result) the decision is a deny with the code
`AIGOV_POLICY_UNAVAILABLE`, never an allow.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from opa_client.opa_async import AsyncOpaClient
from pydantic import ValidationError

import aigov
from aigov.core.config import Config
from aigov.policy import input as policy_input
from aigov.policy.decision import UNAVAILABLE, UNAVAILABLE_CONTROL, AdmissionDecision, Violation

__all__ = [
    "UNAVAILABLE",
    "UNAVAILABLE_CONTROL",
    "AdmissionDecision",
    "Bundle",
    "PolicyClient",
    "PolicyError",
    "Violation",
    "policy_dir",
    "read_bundle",
]

log = logging.getLogger(__name__)

PACKAGE = "aigov.admission"
RULE = "decision"
DEFAULT_TIMEOUT = 1.0
POLICY_DIR_ENV = "AIGOV_POLICY_DIR"


class PolicyError(RuntimeError):
    """The policy bundle cannot be read or OPA refuses it; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """The policy modules (id -> Rego text) and what identifies them."""

    modules: dict[str, str]
    sha256: str
    version: str


def policy_dir() -> Path:
    """`$AIGOV_POLICY_DIR`, else the repository's `policies/` next to the package."""
    configured = os.environ.get(POLICY_DIR_ENV)
    return Path(configured) if configured else Path(aigov.__file__).resolve().parents[1] / "policies"


def read_bundle(directory: Path) -> Bundle:
    """Every non-test `.rego` file under `directory`, keyed by its relative path."""
    files = sorted(p for p in directory.rglob("*.rego") if not p.name.endswith("_test.rego"))
    if not files:
        raise PolicyError(f"no policy files (*.rego) under {directory}")
    modules = {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8") for p in files}
    digest = hashlib.sha256()
    for module_id, text in modules.items():
        digest.update(module_id.encode() + b"\0" + text.encode() + b"\0")
    return Bundle(modules, digest.hexdigest(), aigov.__version__)


def _probe_input() -> dict[str, Any]:
    """A DELETE review: defined, and allowed, exactly when the policies are loaded."""
    request = {"uid": "aigov-readiness-probe", "operation": "DELETE", "namespace": "default", "name": "probe"}
    namespace = policy_input.Namespace("default")
    return policy_input.build(request, None, namespace, Config(), datetime.now(UTC))


class PolicyClient:
    """Decisions from one OPA server over one session; use as an async context manager."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OPA URL must look like http://host:port, not {url!r}")
        default_port = 443 if parts.scheme == "https" else 8181
        self.url = url
        self._opa = AsyncOpaClient(
            host=parts.hostname,
            port=parts.port or default_port,
            ssl=parts.scheme == "https",
            retries=0,
            timeout=timeout,
        )
        self.bundle: Bundle | None = None

    async def __aenter__(self) -> PolicyClient:
        await self._opa.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._opa.close_connection()

    async def load_policies(self, directory: Path | None = None) -> Bundle:
        """PUT every policy module into OPA, drop stale aigov modules, remember the bundle.

        Modules of one package refer to each other's rules, and OPA compiles each
        PUT against what it already holds, so modules are retried until none
        makes progress; the last compile errors are then raised.
        """
        bundle = read_bundle(directory or policy_dir())
        self.bundle = None
        pending = dict(bundle.modules)
        while pending:
            errors: dict[str, str] = {}
            for module_id, text in pending.items():
                try:
                    await self._opa.update_policy_from_string(text, module_id, rego_compat=False)
                except Exception as exc:  # the client raises several types, all meaning "refused"
                    errors[module_id] = str(exc) or type(exc).__name__
            if len(errors) == len(pending):
                details = "; ".join(f"{module_id}: {error}" for module_id, error in errors.items())
                raise PolicyError(f"OPA at {self.url} refused the policies: {details}")
            pending = {module_id: pending[module_id] for module_id in errors}
        try:
            stale = {m for m in await self._opa.get_policies_list() if m.startswith("aigov/")} - set(bundle.modules)
            for module_id in stale:
                await self._opa.delete_policy(module_id)
        except Exception as exc:
            raise PolicyError(f"OPA at {self.url} failed while removing stale policies: {exc}") from exc
        self.bundle = bundle
        log.info("loaded policy bundle %s (sha256 %s) into OPA at %s", bundle.version, bundle.sha256, self.url)
        return bundle

    async def ready(self) -> bool:
        """True when this client loaded the bundle and OPA returns a decision for a probe."""
        if self.bundle is None:
            return False
        decision = await self._query(_probe_input())
        return isinstance(decision, AdmissionDecision) and decision.allowed

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision:
        """The decision for the input `document` (see `aigov.policy.input.build`)."""
        result = await self._query(document)
        if isinstance(result, str):
            log.warning("policy decision unavailable: %s", result)
            return AdmissionDecision.unavailable(result)
        return result

    async def _query(self, document: dict[str, Any]) -> AdmissionDecision | str:
        """The decision, or why there is none."""
        try:
            response = await self._opa.query_rule(document, PACKAGE, RULE)
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
