"""Admission without a decision: workloads are denied, AISystems admitted with a warning."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from aigov.clients.kube_reader import KubeReadError
from aigov.core.config import Config
from aigov.policy.opa import UNAVAILABLE, AdmissionDecision, Violation
from aigov.webhook.admission import Admission


class Cluster:
    """The namespace `ml`, or a KubeReadError when `broken`."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken

    async def aisystem(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def namespace(self, name: str) -> dict[str, Any]:
        if self.broken:
            raise KubeReadError(503, "apiserver unavailable")
        return {"labels": {}}

    async def scale_target(self, request: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def namespace_exceptions(self, namespace: str) -> list[dict[str, Any]]:
        return []


class Decider:
    """Always the same decision."""

    def __init__(self, decision: AdmissionDecision) -> None:
        self.decision = decision

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision:
        return self.decision


def _body(kind: str, group: str) -> bytes:
    request = {
        "uid": "u-1",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": kind.lower() + "s"},
        "namespace": "ml",
        "name": "chat",
        "operation": "UPDATE",
        "userInfo": {"username": "dev"},
        "object": {"metadata": {"name": "chat", "namespace": "ml"}},
    }
    return orjson.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})


async def _response(decision: AdmissionDecision, *, aisystem_route: bool, cluster: Cluster | None = None) -> Any:
    admission = Admission(cluster or Cluster(), Decider(decision), Config())
    kind, group = ("AISystem", "aigov.io") if aisystem_route else ("Deployment", "apps")
    return orjson.loads(await admission.review(_body(kind, group), aisystem_route=aisystem_route))["response"]


async def test_workload_without_a_decision_is_denied() -> None:
    response = await _response(AdmissionDecision.unavailable("OPA down"), aisystem_route=False)
    assert response["allowed"] is False
    assert UNAVAILABLE in response["status"]["message"]


@pytest.mark.parametrize("cluster", [Cluster(), Cluster(broken=True)], ids=["opa-down", "cluster-unreadable"])
async def test_aisystem_without_a_decision_is_admitted_with_a_warning(cluster: Cluster) -> None:
    response = await _response(AdmissionDecision.unavailable("OPA down"), aisystem_route=True, cluster=cluster)
    assert response == {
        "uid": "u-1",
        "allowed": True,
        "warnings": ["aigov could not check this AISystem (policy unavailable); its workloads are still judged"],
    }


async def test_aisystem_deny_from_the_policy_stands() -> None:
    violation = Violation(code="AIGOV_EXAMPLE", message="a rule that denies AISystems", control="A.4.2")
    response = await _response(
        AdmissionDecision(allowed=False, mode="enforce", violations=(violation,)), aisystem_route=True
    )
    assert response["allowed"] is False
    assert "AIGOV_EXAMPLE" in response["status"]["message"]


async def test_aisystem_warnings_from_the_policy_pass_through() -> None:
    decision = AdmissionDecision(allowed=True, mode="enforce", warnings=("riskTier high: pin the images",))
    response = await _response(decision, aisystem_route=True)
    assert response == {"uid": "u-1", "allowed": True, "warnings": ["riskTier high: pin the images"]}
