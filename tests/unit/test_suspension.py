"""Suspension planning: record first, then stop; restore, then archive; every re-run converges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aigov.core.model import AISystemStatus, rfc3339
from aigov.core.suspension import (
    SetReplicas,
    SuspensionPlan,
    WorkloadRef,
    kept_pod,
    last_resumed_at,
    needs_attention,
    plan,
    request,
    to_read,
)

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DEPLOY = WorkloadRef("apps/v1", "Deployment", "api")
STS = WorkloadRef("apps/v1", "StatefulSet", "cache")
ISVC = WorkloadRef("serving.kserve.io/v1beta1", "InferenceService", "llm")
DAEMON = WorkloadRef("apps/v1", "DaemonSet", "agent")


def status(**fields: Any) -> AISystemStatus:
    return AISystemStatus.model_validate(fields)


STOPS = {"Deployment": "scale", "StatefulSet": "scale", "InferenceService": "annotation", "DaemonSet": "nodeSelector"}


def recorded(ref: WorkloadRef, replicas: int) -> dict[str, Any]:
    entry = {"apiVersion": ref.api_version, "kind": ref.kind, "name": ref.name, "replicas": replicas}
    return entry | {"stop": STOPS[ref.kind]}


MANUAL = {"active": True, "since": rfc3339(T0), "reason": "Manual", "suspendedBy": "ann"}


def test_nothing_to_do_without_a_suspension() -> None:
    assert not needs_attention(status())
    assert not plan(status(), {DEPLOY: 3}, T0)
    assert to_read(status(), [DEPLOY]) == []


def test_to_read_the_bound_stoppable_workloads_while_active() -> None:
    unknown = WorkloadRef("example.com/v1", "Gadget", "g")
    got = to_read(status(suspension=MANUAL), [STS, DAEMON, unknown, DEPLOY, ISVC, DEPLOY])
    assert got == [DAEMON, DEPLOY, STS, ISVC]


def test_a_new_suspension_records_every_workload_then_stops_the_running_ones() -> None:
    result = plan(status(suspension=MANUAL), {DEPLOY: 3, STS: 0, ISVC: 1}, T0)
    assert result.record == {
        "suspension": {"previousReplicas": [recorded(DEPLOY, 3), recorded(STS, 0), recorded(ISVC, 1)]}
    }
    assert result.actions == (SetReplicas(DEPLOY, 0, 3), SetReplicas(ISVC, 0, 1))
    assert result.archive == {}


def test_after_a_crash_between_record_and_scaling_only_the_scaling_is_left() -> None:
    written = MANUAL | {"previousReplicas": [recorded(DEPLOY, 3), recorded(STS, 2)]}
    result = plan(status(suspension=written), {DEPLOY: 3, STS: 0}, T0)
    assert result == SuspensionPlan(actions=(SetReplicas(DEPLOY, 0, 3),))


def test_once_everything_is_stopped_nothing_is_left() -> None:
    written = MANUAL | {"previousReplicas": [recorded(DEPLOY, 3)]}
    assert not plan(status(suspension=written), {DEPLOY: 0}, T0)


def test_a_workload_that_appears_while_suspended_is_added_and_stopped_counts_kept() -> None:
    written = MANUAL | {"previousReplicas": [recorded(DEPLOY, 3)]}
    result = plan(status(suspension=written), {DEPLOY: 1, STS: 2}, T0)
    assert result.record == {"suspension": {"previousReplicas": [recorded(DEPLOY, 3), recorded(STS, 2)]}}
    assert result.actions == (SetReplicas(DEPLOY, 0, 1), SetReplicas(STS, 0, 2))


def test_a_suspension_without_since_gets_one() -> None:
    result = plan(status(suspension={"active": True, "previousReplicas": [recorded(DEPLOY, 1)]}), {DEPLOY: 0}, T0)
    assert result.record == {"suspension": {"since": rfc3339(T0)}}


RESUMED = MANUAL | {
    "active": False,
    "resumedAt": rfc3339(T0 + timedelta(hours=1)),
    "resumedBy": "bob",
    "justification": "retrained",
    "previousReplicas": [recorded(DEPLOY, 3), recorded(STS, 2), recorded(ISVC, 1)],
}


def test_resume_restores_what_exists_then_archives() -> None:
    earlier = MANUAL | {"active": False, "resumedAt": rfc3339(T0 - timedelta(days=1))}
    current = status(suspension=RESUMED, suspensionHistory=[earlier])
    assert needs_attention(current)
    assert to_read(current, []) == [DEPLOY, STS, ISVC]
    result = plan(current, {DEPLOY: 0, ISVC: 0}, T0)
    assert result.actions == (SetReplicas(DEPLOY, 3, 0), SetReplicas(ISVC, 1, 0))
    assert result.missing == (STS,)
    assert result.record == {}
    assert result.archive["suspension"] is None
    history = result.archive["suspensionHistory"]
    assert [h["resumedAt"] for h in history] == [earlier["resumedAt"], RESUMED["resumedAt"]]
    assert history[1]["previousReplicas"] == RESUMED["previousReplicas"]


def test_resume_after_a_crash_between_restore_and_archive_only_archives() -> None:
    result = plan(status(suspension=RESUMED), {DEPLOY: 3, STS: 2, ISVC: 1}, T0)
    assert result.actions == ()
    assert result.archive["suspension"] is None


def test_request_suspends_and_clears_stale_fields() -> None:
    patch = request(status(), now=T0, reason="CheckBreached", by="op", check="psi", value=0.4, cause_since=T0)
    assert patch is not None
    assert patch["suspension"]["active"] is True
    assert patch["suspension"]["resumedAt"] is None


def test_request_declines_when_suspended_resuming_or_overridden() -> None:
    assert request(status(suspension=MANUAL), now=T0, reason="NoData", by="op") is None
    assert request(status(suspension=RESUMED), now=T0, reason="NoData", by="op") is None
    archived = status(suspensionHistory=[RESUMED])
    assert last_resumed_at(archived) == T0 + timedelta(hours=1)
    before = T0 + timedelta(minutes=30)
    after = T0 + timedelta(hours=2)
    assert request(archived, now=after, reason="CheckBreached", by="op", cause_since=before) is None
    assert request(archived, now=after, reason="CheckBreached", by="op", cause_since=after) is not None


POD = WorkloadRef("v1", "Pod", "notebook")
POD_OBJECT = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "notebook", "labels": {"aigov.io/system": "chat"}, "uid": "u", "resourceVersion": "7"},
    "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "vllm/vllm-openai:v0.8.5"}]},
    "status": {"phase": "Running"},
}


def test_a_bare_pod_is_recorded_with_its_spec_then_deleted_and_recreated_on_resume() -> None:
    kept = kept_pod(POD_OBJECT)
    assert kept == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "notebook", "labels": {"aigov.io/system": "chat"}},
        "spec": {"containers": [{"name": "main", "image": "vllm/vllm-openai:v0.8.5"}]},
    }
    stopping = plan(status(suspension=MANUAL), {POD: 1}, T0, {POD: kept})
    (entry,) = stopping.record["suspension"]["previousReplicas"]
    assert entry["stop"] == "delete" and entry["pod"] == kept
    assert stopping.actions == (SetReplicas(POD, 0, 1),)
    after = MANUAL | {"previousReplicas": [entry]}
    assert plan(status(suspension=after), {}, T0) == SuspensionPlan()
    resumed = after | {"active": False, "resumedAt": rfc3339(T0)}
    restoring = plan(status(suspension=resumed), {}, T0)
    assert restoring.actions == (SetReplicas(POD, 1, 0),) and restoring.actions[0].pod == kept
    assert restoring.missing == ()


RETIRED = {"retiredBy": "bob", "retiredAt": rfc3339(T0), "justification": "replaced"}


def test_a_retired_system_has_every_workload_stopped_for_good_even_over_a_resume() -> None:
    for current in (status(retirement=RETIRED), status(retirement=RETIRED, suspension=RESUMED)):
        assert needs_attention(current)
        assert to_read(current, [STS, DEPLOY, ISVC]) == [DEPLOY, STS, ISVC]
        result = plan(current, {DEPLOY: 3, STS: 0, ISVC: 1}, T0)
        assert result == SuspensionPlan(actions=(SetReplicas(DEPLOY, 0, 3), SetReplicas(ISVC, 0, 1)))
    assert not plan(status(retirement=RETIRED), {DEPLOY: 0}, T0)
