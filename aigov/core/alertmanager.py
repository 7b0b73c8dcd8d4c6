"""Pure: which AISystems an Alertmanager webhook notification (payload version 4) asks to suspend.

Every *firing* alert that carries both a `namespace` and an `aisystem` label
names one system; resolved alerts and alerts without those labels name none.
A system named by several alerts is suspended once, for the earliest of them
(`startsAt`, so a person's resume after it stands: Alertmanager repeats
notifications of alerts that keep firing). An alert suspends only for a breach
that began after the last resume by the operator's clock: `refusal` turns away
alerts without a `startsAt` and alerts from the future (clock skew, a bad
payload), which would otherwise override a person's resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

VERSION = "4"
REASON = "AlertFiring"
"""The suspension reason of a system suspended through Alertmanager."""


class PayloadError(ValueError):
    """Not an Alertmanager webhook payload this receiver understands."""


@dataclass(frozen=True, slots=True)
class Target:
    """One AISystem to suspend and the alert that asks for it."""

    namespace: str
    aisystem: str
    alertname: str
    starts_at: datetime | None


def targets(payload: Any) -> list[Target]:
    """The systems a notification asks to suspend, in a stable order."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError("expected an Alertmanager webhook payload: a JSON object with an alerts list")
    if str(payload.get("version")) != VERSION:
        raise PayloadError(f"Alertmanager webhook payload version {payload.get('version')!r}; this receiver reads 4")
    found: dict[tuple[str, str], Target] = {}
    for alert in payload["alerts"]:
        if not isinstance(alert, dict) or alert.get("status") != "firing":
            continue
        labels: dict[str, Any] = alert["labels"] if isinstance(alert.get("labels"), dict) else {}
        namespace, aisystem = labels.get("namespace"), labels.get("aisystem")
        if not (isinstance(namespace, str) and namespace and isinstance(aisystem, str) and aisystem):
            continue
        target = Target(namespace, aisystem, str(labels.get("alertname") or "alert"), _time(alert.get("startsAt")))
        earlier = found.get((namespace, aisystem))
        if earlier is None or _before(target, earlier):
            found[namespace, aisystem] = target
    return [found[key] for key in sorted(found)]


def refusal(target: Target, now: datetime) -> str | None:
    """Why `target` may not suspend anything (None: it may)."""
    if target.starts_at is None:
        return "refused: the alert has no valid startsAt, so it cannot be placed after the last resume"
    if target.starts_at > now:
        return (
            f"refused: the alert starts at {target.starts_at.isoformat()}, after the operator's clock "
            f"({now.isoformat()}); check the clocks of Prometheus, Alertmanager and the operator"
        )
    return None


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _before(a: Target, b: Target) -> bool:
    return a.starts_at is not None and (b.starts_at is None or a.starts_at < b.starts_at)
