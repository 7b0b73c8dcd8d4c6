"""The audit's one use of the decision client: a session to OPA with the aigov policies loaded.

Kept to this function so the audit follows whatever `aigov.policy.opa` becomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from aigov.policy.opa import AdmissionDecision, PolicyClient

log = logging.getLogger(__name__)


class Decider(Protocol):
    """Where decisions come from (`aigov.policy.opa.PolicyClient`)."""

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision: ...


@asynccontextmanager
async def policy_session(
    url: str, opa_timeout: float, policy_dir: Path | None, attempts: int = 30
) -> AsyncIterator[Decider]:
    """A decider over OPA at `url` once it holds the policies (loaded by this process, retried every 2 s)."""
    async with PolicyClient(url, opa_timeout) as policy:
        for attempt in range(1, attempts + 1):
            try:
                await policy.load_policies(policy_dir)
                break
            except Exception as exc:  # OPA not up yet, or refusing: the message says why
                if attempt == attempts:
                    raise
                log.warning("cannot load the policies into OPA at %s yet: %s", url, exc)
                await asyncio.sleep(2)
        yield policy
