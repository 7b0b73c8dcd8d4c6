"""The operator on AIGovExceptions against a real kube-apiserver: state, Events on grant and expiry, gauges."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.core.model import rfc3339
from aigov.operator.run import REPORTING_COMPONENT
from devkit.devcluster import ControlPlane, Server
from tests.integration.conftest import StartOperator
from tests.polling import eventually

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module", autouse=True)
def operator(start_operator: StartOperator, peering_name: str) -> Server:
    """One operator, cluster-wide, for the whole module."""
    return start_operator(f"--peering={peering_name}", "--resync=30")


def exception(name: str, expires_in: timedelta, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AIGovException",
        "metadata": {"name": name},
        "spec": {"system": "chat", "codes": ["AIGOV_APPROVAL_MISSING"], "justification": "pilot", "ticket": "CHG-1",
                 "requestedBy": "dave", "expiresAt": rfc3339(datetime.now(UTC) + expires_in), **spec},
    }  # fmt: skip


def state(kube: ControlPlane, namespace: str, name: str) -> str:
    got = json.loads(kube.kubectl("get", "aigovexception", name, "-n", namespace, "-o", "json").stdout)
    return str((got.get("status") or {}).get("state", ""))


def reasons(kube: ControlPlane, namespace: str, name: str) -> list[tuple[str, str]]:
    listed = json.loads(
        kube.kubectl("get", "events", "-n", namespace, "-o", "json",
                     f"--field-selector=involvedObject.kind=AIGovException,involvedObject.name={name}").stdout
    )  # fmt: skip
    ours = [e for e in listed["items"] if e.get("reportingComponent") == REPORTING_COMPONENT]
    ours.sort(key=lambda e: e.get("eventTime") or e.get("firstTimestamp") or "")
    return [(e["type"], e["reason"]) for e in ours]


def test_grant_and_expiry_are_announced_and_shown(kube: ControlPlane, namespace: str) -> None:
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(exception("pilot", timedelta(seconds=12))))
    eventually(lambda: state(kube, namespace, "pilot") == "Pending", what="Pending")
    record = {"action": "approved", "by": "alice", "at": rfc3339(datetime.now(UTC))}
    kube.kubectl("patch", "aigovexception", "pilot", "-n", namespace, "--subresource=status", "--type=merge",
                 "-p", json.dumps({"status": {"records": [record]}}))  # fmt: skip
    eventually(lambda: state(kube, namespace, "pilot") == "Approved", what="Approved")
    eventually(lambda: state(kube, namespace, "pilot") == "Expired", timeout=30, what="Expired")
    expected = [("Normal", "ExceptionApproved"), ("Normal", "ExceptionExpired")]
    eventually(lambda: reasons(kube, namespace, "pilot") == expected, what=f"events {expected}")
    row = kube.kubectl("get", "aigovexception", "pilot", "-n", namespace, "--no-headers").stdout.split()
    assert row[:2] == ["pilot", "Expired"] and row[3] == "chat"


def test_break_glass_is_a_warning(kube: ControlPlane, namespace: str) -> None:
    body = exception("incident", timedelta(hours=2), breakGlass=True, requestedBy="oscar")
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))
    eventually(lambda: state(kube, namespace, "incident") == "BreakGlass", what="BreakGlass")
    eventually(lambda: reasons(kube, namespace, "incident") == [("Warning", "BreakGlassGranted")], what="warning")


def test_the_operator_needed_no_permission_it_lacks(operator: Server) -> None:
    log = operator.log_tail(100_000)
    assert "Forbidden" not in log and "Not enough permissions" not in log
    operator.check_alive()


def nonconformities(kube: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(
        kube.kubectl("get", "nonconformities", "-n", namespace, "-o", "json").stdout
    )["items"]
    return items


def test_break_glass_opens_a_nonconformity_once(kube: ControlPlane, namespace: str, operator: Server) -> None:
    system = {"apiVersion": "aigov.io/v1alpha1", "kind": "AISystem", "metadata": {"name": "chat"},
              "spec": {"purpose": "chat", "riskTier": "limited"}}  # fmt: skip
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(system))
    body = exception("outage", timedelta(hours=2), breakGlass=True, requestedBy="oscar", justification="sev1 outage")
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))
    (nc,) = eventually(lambda: nonconformities(kube, namespace), what="a nonconformity")
    assert nc["metadata"]["labels"] == {"aigov.io/system": "chat", "aigov.io/source": "exception"}
    spec = nc["spec"]
    assert (spec["system"], spec["source"], spec["reference"], spec["riskTier"]) == (
        "chat",
        "exception",
        "outage",
        "limited",
    )
    assert spec["summary"] == "break-glass exception outage granted by oscar: sev1 outage"
    # A normal exception opens none; the break-glass one's stays the only one after further events and a restart.
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(exception("pilot", timedelta(hours=2))))
    kube.kubectl("annotate", "aigovexception", "outage", "-n", namespace, "touched=1")
    eventually(
        lambda: "touched" in kube.kubectl("get", "aigovexception", "outage", "-n", namespace, "-o", "json").stdout
    )
    eventually(lambda: state(kube, namespace, "pilot") == "Pending", what="Pending")
    assert [n["metadata"]["name"] for n in nonconformities(kube, namespace)] == [nc["metadata"]["name"]]
    assert "nonconformity " + nc["metadata"]["name"] + " opened" in operator.log_tail(100_000)
