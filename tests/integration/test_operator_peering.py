"""Two `aigov operator` replicas sharing a peering name: only the higher-priority one acts; the other takes over."""

from __future__ import annotations

import json

import pytest

from devkit.devcluster import ControlPlane
from tests.integration.conftest import StartOperator
from tests.integration.test_operator import apply, assessment, reasons, record, system, wait_phase
from tests.polling import eventually

pytestmark = pytest.mark.cluster


def writes(log: str, namespace: str, name: str) -> int:
    """How many status writes a replica logged for the AISystem."""
    return sum(1 for line in log.splitlines() if f"[{namespace}/{name}]" in line and "status updated" in line)


def test_only_the_elected_replica_acts_and_the_other_takes_over(
    kube: ControlPlane, namespace: str, start_operator: StartOperator, peering_name: str
) -> None:
    leader = start_operator(f"--peering={peering_name}", "--priority=200", name="leader")
    standby = start_operator(f"--peering={peering_name}", "--priority=100", name="standby")

    def priorities() -> list[int]:
        peering = json.loads(kube.kubectl("get", "clusterkopfpeering", peering_name, "-o", "json").stdout)
        return sorted(peer["priority"] for peer in (peering.get("status") or {}).values())

    eventually(lambda: priorities() == [100, 200], what="both replicas in the peering object")

    apply(kube, namespace, system("ha"))
    wait_phase(kube, namespace, "ha", "AwaitingAssessment")
    eventually(lambda: reasons(kube, namespace, "ha") == [("Normal", "AwaitingAssessment")], what="one event")
    assert writes(leader.log_tail(100_000), namespace, "ha") == 1
    assert writes(standby.log_tail(100_000), namespace, "ha") == 0

    leader.stop(timeout=20)
    record(kube, namespace, "ha", {"impactAssessment": assessment()})
    wait_phase(kube, namespace, "ha", "AwaitingApproval")
    assert writes(standby.log_tail(100_000), namespace, "ha") == 1
    assert reasons(kube, namespace, "ha") == [("Normal", "AwaitingAssessment"), ("Normal", "AwaitingApproval")]
