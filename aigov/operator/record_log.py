"""Every governance record change the operator observes, as a line of its decision log (`aigov.records`).

The records are the identity-bound parts of an AISystem's status: the impact
assessment, the approvals (revocations included) and the suspension (resume
included). A line is written when an AISystem is first seen, when its records
change, and when it is deleted; it carries the records' sha256, who wrote them
last, and the resourceVersion, so the log says which record the cluster held when.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import kopf
import orjson

from aigov.core.config import GROUP, PLURAL, VERSION
from aigov.core.model import rfc3339
from aigov.operator.context import REGISTRY
from aigov.telemetry.decision_log import DecisionLog

RECORD_FIELDS = ("impactAssessment", "assessments", "approvals", "suspension", "retirement")
RECORDS = DecisionLog(logging.getLogger("aigov.records"), "operator")
_SEEN: dict[str, str] = {}
"""The records' sha256 last logged, by AISystem uid."""


def records_of(body: kopf.Body) -> dict[str, Any]:
    """The governance records in an AISystem's status."""
    status = body.get("status") or {}
    return {name: status[name] for name in RECORD_FIELDS if name in status}


@kopf.on.event(GROUP, VERSION, PLURAL, id="record-log", registry=REGISTRY)
def log_record_change(body: kopf.Body, type: str | None, **_: Any) -> None:
    """Log the AISystem's records when they differ from the ones last logged (or it was deleted)."""
    uid = body.metadata.uid or ""
    records = records_of(body)
    sha256 = hashlib.sha256(orjson.dumps(records, option=orjson.OPT_SORT_KEYS)).hexdigest()
    deleted = type == "DELETED"
    if not deleted and _SEEN.get(uid) == sha256:
        return
    change = "deleted" if deleted else "observed" if uid not in _SEEN else "changed"
    if deleted:
        _SEEN.pop(uid, None)
    else:
        _SEEN[uid] = sha256
    RECORDS.write(
        {
            "event": "records",
            "at": rfc3339(datetime.now(UTC)),
            "change": change,
            "namespace": body.metadata.namespace,
            "name": body.metadata.name,
            "uid": uid,
            "resourceVersion": body.metadata.get("resourceVersion"),
            "recordsSha256": sha256,
            "records": records,
        }
    )
