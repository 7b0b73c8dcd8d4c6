"""`aigov operator --worker-limit=2` over more objects of every indexed kind than places: nothing waits forever.

kopf's own indexes deadlocked under a worker limit (the first workers held every
place, waiting for objects whose workers could not start); aigov's indexes are
listed at start-up instead. Everything exists before the operator starts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aigov.core.config import Config
from aigov.core.nonconformity import for_audit
from devkit.devcluster import ControlPlane
from tests.integration.conftest import StartOperator
from tests.integration.test_operator import apply, bound, status, system, workload
from tests.polling import eventually

pytestmark = pytest.mark.cluster

SYSTEMS = 6
"""Three times the worker limit, as are the Deployments and Nonconformities."""


def test_every_phase_and_bound_workload_is_set_under_a_worker_limit(
    kube: ControlPlane, namespace: str, start_operator: StartOperator, peering_name: str
) -> None:
    names = [f"bot-{i}" for i in range(SYSTEMS)]
    by = Config().identity.operator_usernames[0]
    for name in names:
        apply(kube, namespace, system(name))
        apply(kube, namespace, workload("Deployment", f"{name}-web", "ollama/ollama:0.6.8", name))
        nc = for_audit(namespace, name, f"Deployment/{name}-web", ["X"], now=datetime.now(UTC), by=by, tier="minimal")
        kube.kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(nc))
    start_operator(f"--peering={peering_name}", "--worker-limit=2")

    def settled(name: str) -> bool:
        expected = [("Deployment", f"{name}-web", ("ollama/ollama:0.6.8",))]
        return (
            status(kube, namespace, name).get("phase") == "AwaitingAssessment"
            and bound(kube, namespace, name) == expected
        )

    eventually(lambda: all(settled(name) for name in names), what="every phase and bound workload")
