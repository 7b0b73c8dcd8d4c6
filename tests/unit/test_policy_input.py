"""The policy input builder: shape, system reference, synthesised CREATE requests."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.core.digests import spec_hash
from aigov.core.model import AISystemSpec
from aigov.core.workloads import WorkloadKind
from aigov.policy.input import (
    POLICY_STATUS_FIELDS,
    Namespace,
    admission_request,
    build,
    policy_view,
    resource_for,
    rfc3339,
    system_ref,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG = Config()
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _deployment(labels: dict[str, str] | None = None, template_labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "labels": labels or {}},
        "spec": {"template": {"metadata": {"labels": template_labels or {}}, "spec": {"containers": []}}},
    }


def test_build_wraps_the_request_unchanged() -> None:
    request = admission_request(_deployment(), "ml")
    system = {"metadata": {"name": "chat"}}
    exception = {"metadata": {"name": "pilot"}, "spec": {"system": "chat"}}
    namespace = Namespace("ml", {"aigov.io/enforcement": "warn"})
    document = build(request, system, namespace, NOW, exceptions=[exception])
    assert document == {
        "request": request,
        "aisystem": system,
        "namespace": {"name": "ml", "labels": {"aigov.io/enforcement": "warn"}},
        "now": "2026-01-31T12:00:00Z",
        "exceptions": [exception],
    }
    assert build(request, system, namespace, NOW)["exceptions"] == []
    pool = WorkloadKind(group="example.com", version="v1", kind="ModelPool", resource="modelpools")
    assert build(request, system, namespace, NOW, extra_kinds=[pool])["extraKinds"] == [pool.policy_data()]
    assert document["request"] is request
    json.dumps(document)


def test_what_only_records_how_a_workload_was_applied_stays_out() -> None:
    applied = _deployment({"app": "web"})
    applied["metadata"] |= {
        "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(_deployment()), "team": "a"},
    }
    old = {"metadata": {"name": "llm", "managedFields": []}, "spec": {"replicas": 1}}
    request = admission_request(applied, "ml") | {"oldObject": old}
    sent = build(request, None, Namespace("ml"), NOW)["request"]
    assert sent["object"]["metadata"] == {
        "name": "llm", "namespace": "ml", "labels": {"app": "web"}, "annotations": {"team": "a"}
    }  # fmt: skip
    assert sent["object"]["spec"] is applied["spec"]
    assert sent["oldObject"] == {"metadata": {"name": "llm"}, "spec": {"replicas": 1}}
    assert "managedFields" in applied["metadata"], "the request itself is not modified"
    assert sent["uid"] == request["uid"]
    odd = admission_request(_deployment(), "ml") | {"oldObject": "not an object"}
    assert build(odd, None, Namespace("ml"), NOW)["request"] is odd


def test_rfc3339_is_utc_and_requires_a_time_zone() -> None:
    assert rfc3339(datetime(2026, 1, 31, 13, 0, 0, 500, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-01-31T12:00:00.000500Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        rfc3339(datetime(2026, 1, 31))


def test_policy_data_is_built_once_and_copies_rebuild_it() -> None:
    config = Config()
    assert config.policy_data() is config.policy_data()
    kind = WorkloadKind(group="example.com", version="v1", kind="ModelServer", resource="modelservers", role="serving")
    extended = config.model_copy(update={"extra_kinds": (kind,)})
    assert [k["kind"] for k in extended.policy_data()["kinds"]][-1] == "ModelServer"
    assert "ModelServer" not in [k["kind"] for k in config.policy_data()["kinds"]]
    relabelled = config.model_copy(update={"system_label": "example.com/system"})
    assert relabelled.policy_data()["systemLabel"] == "example.com/system"


def test_the_aisystem_is_sent_without_what_the_policies_do_not_read() -> None:
    system: dict[str, Any] = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "AISystem",
        "metadata": {"name": "chat", "namespace": "ml", "managedFields": [{"manager": "kubectl"}]},
        "spec": {"riskTier": "limited", "images": ["vllm/vllm-openai:v1"]},
        "status": {
            "approvals": [{"approver": "b"}, {"approver": "b", "decision": "revoked"}],
            "impactAssessment": {"status": "completed"},
            "suspension": {"active": False},
            "suspensionHistory": [{"active": False}],
            "boundWorkloads": [{"kind": "Deployment", "name": "llm"}],
            "conditions": [],
        },
    }
    document = build(admission_request(_deployment(), "ml"), system, Namespace("ml"), NOW, left=system)
    for sent in (document["aisystem"], document["leftAISystem"]):
        assert sent["metadata"] == {"name": "chat", "namespace": "ml"}
        assert sent["spec"] == system["spec"]
        assert sent["status"] == {k: system["status"][k] for k in ("approvals", "impactAssessment", "suspension")}
    assert system["status"]["boundWorkloads"], "the caller's object is not modified"
    odd = {"metadata": "not an object", "status": ["neither"]}
    assert build(admission_request(_deployment(), "ml"), odd, Namespace("ml"), NOW)["aisystem"] == odd


def test_every_status_field_the_policies_read_is_sent() -> None:
    """A Rego rule reading a status field the input leaves out would judge every system as lacking it.

    exceptions.rego reads AIGovExceptions' `status.records`: those are sent as stored, not trimmed."""
    rego = [
        p
        for p in (REPO / "policies").rglob("*.rego")
        if not p.name.endswith("_test.rego") and p.name != "exceptions.rego"
    ]
    pattern = r'status\.(\w+)|"status",\s*"(\w+)"'
    read = {dotted or listed for path in rego for dotted, listed in re.findall(pattern, path.read_text())}
    assert read, "the pattern finds the status reads"
    assert read <= set(POLICY_STATUS_FIELDS), read - set(POLICY_STATUS_FIELDS)


def test_testdata_config_matches_the_default_configuration() -> None:
    """policies/testdata/config.json is what the Rego tests run with; regenerate it when config.py changes."""
    committed = json.loads((REPO / "policies" / "testdata" / "config.json").read_text())
    assert committed == {"config": CONFIG.policy_data()}, (
        "regenerate: .venv/bin/python -c 'import json; from aigov.core.config import Config; "
        'print(json.dumps({"config": Config().policy_data()}, indent=2))\' > policies/testdata/config.json'
    )


SYS_J = {"aigov.io/system": "j"}
SYS_P = {"aigov.io/system": "p"}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_deployment({"aigov.io/system": "chat"}), "chat"),
        (_deployment(template_labels={"aigov.io/system": "chat"}), "chat"),
        (_deployment({"aigov.io/system": "a"}, {"aigov.io/system": "b"}), "a"),
        (_deployment({"aigov.io/system": ""}, {"aigov.io/system": "b"}), "b"),
        (_deployment({"app": "llm"}), None),
        (
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {},
                "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"aigov.io/system": "c"}}}}}},
            },
            "c",
        ),
        (
            {"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"metadata": {"labels": SYS_J}}}},
            "j",
        ),
        (
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "spec": {"predictor": {"labels": SYS_P}},
            },
            "p",
        ),
        (
            {
                "apiVersion": "jobset.x-k8s.io/v1alpha2",
                "kind": "JobSet",
                "spec": {"replicatedJobs": [{"template": {"spec": {"template": {"metadata": {"labels": SYS_J}}}}}]},
            },
            "j",
        ),
        (
            {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"template": {"metadata": {"labels": SYS_J}}}},
            None,
        ),
        ({"kind": "Pod", "metadata": {"labels": None}, "spec": "garbage"}, None),
    ],
)
def test_system_ref_reads_object_then_template(obj: dict[str, Any], expected: str | None) -> None:
    assert system_ref({"operation": "CREATE", "object": obj}, CONFIG) == expected


def test_system_ref_of_delete_reads_the_old_object() -> None:
    request = {"operation": "DELETE", "object": None, "oldObject": _deployment({"aigov.io/system": "old"})}
    assert system_ref(request, CONFIG) == "old"


def test_system_ref_follows_the_configured_label() -> None:
    config = Config(system_label="example.com/ai-system")
    assert system_ref({"operation": "CREATE", "object": _deployment({"example.com/ai-system": "x"})}, config) == "x"


def test_system_ref_of_scale_is_left_to_the_caller() -> None:
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "llm"}, "spec": {"replicas": 3}}
    assert system_ref({"operation": "UPDATE", "subResource": "scale", "object": scale}, CONFIG) is None


def test_admission_request_for_a_manifest() -> None:
    manifest = _deployment({"aigov.io/system": "chat"})
    request = admission_request(manifest, "ml")
    assert request["kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert request["resource"] == {"group": "apps", "version": "v1", "resource": "deployments"}
    assert request["requestKind"] == request["kind"]
    assert (request["operation"], request["namespace"], request["name"]) == ("CREATE", "ml", "llm")
    assert request["userInfo"] == {"username": "aigov-check"}
    assert request["object"]["metadata"] == {"name": "llm", "labels": {"aigov.io/system": "chat"}, "namespace": "ml"}
    assert request["object"]["spec"] == manifest["spec"]
    assert "namespace" not in manifest["metadata"], "the manifest itself is not modified"
    assert request["uid"] != admission_request(manifest, "ml")["uid"]


def test_admission_request_for_a_core_pod() -> None:
    request = admission_request({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "x-"}}, "ml")
    assert request["kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert request["resource"]["resource"] == "pods"
    assert request["name"] == ""


@pytest.mark.parametrize(
    ("group", "kind", "resource"),
    [
        ("batch", "CronJob", "cronjobs"),
        ("serving.kserve.io", "InferenceService", "inferenceservices"),
        ("machinelearning.seldon.io", "SeldonDeployment", "seldondeployments"),
        ("leaderworkerset.x-k8s.io", "LeaderWorkerSet", "leaderworkersets"),
        ("aigov.io", "AISystem", "aisystems"),
        ("example.com", "Widget", "widgets"),
    ],
)
def test_resource_for(group: str, kind: str, resource: str) -> None:
    assert resource_for(group, kind) == resource


@pytest.mark.parametrize("hostile", [[], "x", 3, None, {"metadata": [], "status": "s"}])
def test_the_policy_view_is_total(hostile: Any) -> None:
    """Whatever the cache holds for an AISystem, the input is built and the policies judge it as sent."""
    assert policy_view(hostile) == hostile


def test_the_spec_hashes_are_computed_here_for_the_policies() -> None:
    spec: dict[str, Any] = {"purpose": "chat", "riskTier": "minimal", "images": ["a", "b"]}
    before: dict[str, Any] = {"apiVersion": "aigov.io/v1alpha1", "kind": "AISystem",
                              "metadata": {"name": "chat", "namespace": "ml"}, "spec": spec}  # fmt: skip
    after = before | {"spec": spec | {"purpose": "scores applicants", "images": ["b", "a"]}}
    update = admission_request(after, "ml") | {"operation": "UPDATE", "oldObject": before}
    document = build(update, after, Namespace("ml"), NOW)
    assert document["specHash"] == spec_hash(AISystemSpec.model_validate(after["spec"]))
    assert document["oldSpecHash"] == spec_hash(AISystemSpec.model_validate(before["spec"]))
    assert document["specHash"] != document["oldSpecHash"]
    # Images are a set; a workload's update sends no old hash; a spec that does not parse sends none.
    reordered = before | {"spec": spec | {"images": ["b", "a"]}}
    assert build(update, reordered, Namespace("ml"), NOW)["specHash"] == document["oldSpecHash"]
    workload = admission_request(_deployment(), "ml") | {"operation": "UPDATE", "oldObject": _deployment()}
    assert "oldSpecHash" not in build(workload, after, Namespace("ml"), NOW)
    assert "specHash" not in build(workload, {"spec": {"riskTier": 3}}, Namespace("ml"), NOW)
