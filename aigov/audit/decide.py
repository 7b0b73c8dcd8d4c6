"""The audit's one use of the decision client: a session to an OPA serving the aigov bundle.

Kept to this function so the audit follows whatever `aigov.policy.opa` becomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from aigov.core.config import Config
from aigov.policy.bundle import PolicyError, read_bundle
from aigov.policy.opa import AdmissionDecision, PolicyClient

log = logging.getLogger(__name__)


class Decider(Protocol):
    """Where decisions come from (`aigov.policy.opa.PolicyClient`)."""

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision: ...


@asynccontextmanager
async def policy_session(
    url: str, opa_timeout: float, policy_dir: Path | None, config: Config, attempts: int = 30
) -> AsyncIterator[Decider]:
    """A decider over OPA at `url` once it serves the bundle this process ships with `config` (checked every 2 s).

    OPA loads the bundle itself, read-only (as beside the webhook); the audit only waits for it.
    """
    async with PolicyClient(url, opa_timeout, bundle=read_bundle(policy_dir, config)) as policy:
        for attempt in range(1, attempts + 1):
            reason = await policy.unready_reason()
            if reason is None:
                break
            if attempt == attempts:
                raise PolicyError(reason)
            log.warning("OPA is not ready for the audit yet: %s", reason)
            await asyncio.sleep(2)
        yield policy
