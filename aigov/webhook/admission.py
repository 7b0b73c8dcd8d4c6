"""One admission review, end to end: parse, resolve the AISystem, ask OPA, answer, count, log.

The webhook builds the policy input and maps the decision; it decides nothing
itself. The AISystem comes from the watch cache (one GET on a miss); for a
`scale` request it is the one the scaled workload's label names. When the
cluster cannot be read or OPA gives no decision the answer is a deny with
`AIGOV_POLICY_UNAVAILABLE`, except for an AISystem: its review only warns (and
its hook ignores failures), so it is admitted with a warning. Every decision is counted and logged as one
hash-chained JSON line on the `aigov.decisions` logger (`aigov.telemetry.decision_log`, ISO/IEC 42001 A.6.2.8).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, Protocol

from aigov.clients.kube_reader import KubeReadError
from aigov.core import model, workloads
from aigov.core.config import Config
from aigov.policy import input as policy_input
from aigov.policy.opa import UNAVAILABLE, UNAVAILABLE_CONTROL, AdmissionDecision, Violation
from aigov.telemetry.decision_log import DecisionLog
from aigov.telemetry.metrics import ADMISSION_DURATION, ADMISSION_REQUESTS, POLICY_ERRORS, POLICY_EVALUATION_DURATION
from aigov.webhook import review

log = logging.getLogger(__name__)
DECISIONS = DecisionLog(logging.getLogger("aigov.decisions"), "webhook")


class Cluster(Protocol):
    """What admission reads from the cluster (`aigov.webhook.cache.ClusterCache`)."""

    async def aisystem(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def namespace(self, name: str) -> dict[str, Any]: ...

    async def scale_target(self, request: dict[str, Any]) -> dict[str, Any] | None: ...

    def namespace_exceptions(self, namespace: str) -> list[dict[str, Any]]: ...


class Decider(Protocol):
    """Where decisions come from (`aigov.policy.opa.PolicyClient`)."""

    async def decide(self, document: dict[str, Any]) -> AdmissionDecision: ...


def _warn_only(decision: AdmissionDecision) -> AdmissionDecision:
    """An AISystem review without a decision: admitted, saying it went unchecked (the code is still counted)."""
    if decision.allowed or any(v.code != UNAVAILABLE for v in decision.violations):
        return decision
    warning = "aigov could not check this AISystem (policy unavailable); its workloads are still judged"
    return decision.model_copy(update={"allowed": True, "warnings": (*decision.warnings, warning)})


def _cluster_unreadable(exc: KubeReadError) -> AdmissionDecision:
    message = (
        f"aigov could not read the cluster to decide ({exc}); the request is denied until it can. "
        "Check the webhook's access to the API server (its log and GET /readyz)."
    )
    violation = Violation(code=UNAVAILABLE, message=message, control=UNAVAILABLE_CONTROL)
    return AdmissionDecision(allowed=False, mode="enforce", violations=(violation,))


class Admission:
    """Answers AdmissionReviews for workloads and for AISystems."""

    def __init__(self, cluster: Cluster, decider: Decider, config: Config) -> None:
        self._cluster = cluster
        self._decider = decider
        self._config = config

    async def _workload_system(self, request: dict[str, Any]) -> dict[str, Any] | None:
        namespace = request.get("namespace") or ""
        if request.get("subResource") == "scale":
            name = workloads.system_label(await self._cluster.scale_target(request), self._config)
        else:
            name = policy_input.system_ref(request, self._config)
        return await self._cluster.aisystem(namespace, name) if name and namespace else None

    async def _decide(self, request: dict[str, Any], aisystem_route: bool) -> AdmissionDecision:
        try:
            name = request.get("namespace") or ""
            left = None
            if aisystem_route:
                aisystem = request.get("oldObject") if request["operation"] == "DELETE" else request.get("object")
            else:
                aisystem = await self._workload_system(request)
                left_name = policy_input.left_system_ref(request, self._config)
                left = await self._cluster.aisystem(name, left_name) if left_name and name else None
            labels = (await self._cluster.namespace(name))["labels"] if name else {}
        except KubeReadError as exc:
            return _cluster_unreadable(exc)
        document = policy_input.build(
            request,
            aisystem,
            policy_input.Namespace(name, labels),
            datetime.now(UTC),
            left=left,
            exceptions=self._cluster.namespace_exceptions(name) if name else (),
        )
        started = time.perf_counter()
        decision = await self._decider.decide(document)
        POLICY_EVALUATION_DURATION.observe(time.perf_counter() - started)
        return decision

    async def review(self, body: bytes, *, aisystem_route: bool = False) -> bytes:
        """The AdmissionReview response for `body`; `review.MalformedReviewError` when it is not one."""
        started = time.perf_counter()
        request = review.parse(body)
        try:
            decision = await self._decide(request, aisystem_route)
        except Exception as exc:  # a bug must deny, never allow and never answer 500
            log.exception("admission of %s failed", request["uid"])
            decision = AdmissionDecision.unavailable(f"internal error: {type(exc).__name__}")
        if aisystem_route:
            decision = _warn_only(decision)
        if decision.allowed:
            answer = review.allow(request["uid"], decision.warnings)
        else:
            message = review.denial_message(review.subject(request), [v.model_dump() for v in decision.violations])
            answer = review.deny(request["uid"], message, decision.warnings)
        elapsed = time.perf_counter() - started
        ADMISSION_DURATION.observe(elapsed)
        self._record(request, decision, elapsed)
        return answer

    @staticmethod
    def _record(request: dict[str, Any], decision: AdmissionDecision, elapsed: float) -> None:
        codes = [v.code for v in decision.violations]
        verdict = "allowed" if decision.allowed else "denied"
        kind = request["kind"]["kind"]
        namespace = request.get("namespace") or ""
        for code in codes or [""]:
            ADMISSION_REQUESTS.labels(verdict, code, kind, namespace, decision.mode).inc()
        if UNAVAILABLE in codes:
            POLICY_ERRORS.inc()
        entry = {
            "event": "admission",
            "at": model.rfc3339(datetime.now(UTC)),
            "uid": request["uid"],
            "operation": request["operation"],
            "kind": kind,
            "subResource": request.get("subResource"),
            "namespace": namespace,
            "name": request.get("name"),
            "user": request["userInfo"].get("username"),
            "dryRun": bool(request.get("dryRun")),
            "decision": verdict,
            "mode": decision.mode,
            "codes": codes,
            "durationMs": round(elapsed * 1000, 2),
        }
        DECISIONS.write(entry)
