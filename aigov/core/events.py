"""Kubernetes Events as data: what the operator announces about an AISystem (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    """Kubernetes Event types."""

    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class Announcement:
    """A Kubernetes Event to emit about the AISystem."""

    type: EventType
    reason: str
    message: str
