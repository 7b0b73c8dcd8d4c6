"""Keeps the operator's gauges in step with every AISystem's stored state, and counts suspensions as they begin.

The gauges are rebuilt from each watch event's object (`aigov.operator.gauges`);
expiries are absolute times, so the passage of time needs no event.
`aigov_suspensions_total` counts a system going from not suspended to suspended
while this process watches: the initial listing after a start only seeds what
was already suspended, so a restart counts nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.model import AISystem
from aigov.operator.context import REGISTRY, context
from aigov.operator.gauges import sample, suspension_reason
from aigov.telemetry.metrics import GOVERNANCE, SUSPENSIONS

_SUSPENDED = "gauges-suspended"
"""Per-object memo key: whether the system was suspended at its previous event."""


@kopf.on.event(GROUP, VERSION, PLURAL, id="gauges", registry=REGISTRY)
def gauges(type: str | None, body: kopf.Body, memo: Any, **_: Any) -> None:
    """Refresh the system's samples; count a suspension that just began."""
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    if type == "DELETED":
        GOVERNANCE.forget(namespace, name)
        return
    try:
        system = AISystem.model_validate(dict(body))
    except ValidationError:
        GOVERNANCE.forget(namespace, name)
        return
    GOVERNANCE.set(namespace, name, sample(system, context(memo).config, datetime.now(UTC)))
    suspension = system.status.suspension
    active = bool(suspension and suspension.active)
    was = memo.get(_SUSPENDED, None if type is None else False)
    if active and was is False and suspension is not None:
        SUSPENSIONS.labels(namespace, name, suspension_reason(suspension.reason)).inc()
    memo[_SUSPENDED] = active
