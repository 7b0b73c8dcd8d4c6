"""Which workloads bind to an AISystem and how they are summarised."""

from __future__ import annotations

from typing import Any

import pytest

from aigov.core.binding import bound_system, inventory, summarise
from aigov.core.config import SYSTEM_LABEL, Config
from aigov.core.model import BoundWorkload
from aigov.core.workloads import KINDS, api_version, find_resource


def pod_spec(*images: str, init: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)],
        "initContainers": [{"name": f"i{i}", "image": image} for i, image in enumerate(init)],
    }


def workload(spec: dict[str, Any], labels: dict[str, str] | None = None, namespace: str = "team") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w", "namespace": namespace, "labels": labels or {}},
        "spec": spec,
    }


def test_deployment_images_cover_init_containers_sorted_and_unique() -> None:
    body = workload(
        {"replicas": 2, "template": {"spec": pod_spec("vllm/vllm-openai:v0.9", "envoy:1", init=("envoy:1",))}}
    )
    summary = summarise(body, "apps/v1", "Deployment")
    assert summary == BoundWorkload(
        api_version="apps/v1", kind="Deployment", name="w", images=["envoy:1", "vllm/vllm-openai:v0.9"]
    )


def test_cronjob_images_come_from_the_job_template() -> None:
    body = workload({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec("trainer:2")}}}})
    assert summarise(body, "batch/v1", "CronJob").images == ["trainer:2"]


def test_inference_service_images_come_from_the_predictor() -> None:
    body = workload(
        {
            "predictor": {
                "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m", "image": ""},
                "containers": [{"name": "kserve-container", "image": "kserve/sklearnserver:v0.14"}],
            }
        }
    )
    assert summarise(body, "serving.kserve.io/v1beta1", "InferenceService").images == ["kserve/sklearnserver:v0.14"]


@pytest.mark.parametrize(
    ("labels", "namespace", "expected"),
    [
        ({SYSTEM_LABEL: "bot"}, "team", ("team", "bot")),
        ({SYSTEM_LABEL: ""}, "team", None),
        ({"app": "bot"}, "team", None),
        ({SYSTEM_LABEL: "bot"}, None, None),
    ],
)
def test_the_label_names_the_system_in_the_workloads_namespace(
    labels: dict[str, str], namespace: str | None, expected: tuple[str, str] | None
) -> None:
    body = workload({}, labels)
    body["metadata"]["namespace"] = namespace
    assert bound_system(body, Config()) == expected


def test_a_workload_without_metadata_is_not_bound() -> None:
    assert bound_system({}, Config()) is None


def test_a_label_on_the_pod_template_binds_as_admission_reads_it() -> None:
    body = workload({"template": {"metadata": {"labels": {SYSTEM_LABEL: "bot"}}}})
    assert bound_system(body, Config()) == ("team", "bot")


def test_inventory_is_ordered_and_deduplicated() -> None:
    a = BoundWorkload(api_version="batch/v1", kind="Job", name="a")
    b = BoundWorkload(api_version="apps/v1", kind="StatefulSet", name="b")
    c = BoundWorkload(api_version="apps/v1", kind="Deployment", name="z", images=["x"])
    assert inventory([a, b, c, a]) == [c, b, a]


@pytest.mark.parametrize(
    ("group", "plural", "expected"),
    [
        ("apps", "deployments", True),
        ("apps", "statefulsets", True),
        ("apps", "daemonsets", True),
        ("batch", "jobs", True),
        ("batch", "cronjobs", True),
        ("serving.kserve.io", "inferenceservices", True),
        ("apps", "replicasets", True),
        ("", "pods", True),
        ("leaderworkerset.x-k8s.io", "leaderworkersets", True),
        ("kubeflow.org", "pytorchjobs", True),
        ("aigov.io", "aisystems", False),
        ("", "services", False),
    ],
)
def test_bindable_kinds(group: str, plural: str, expected: bool) -> None:
    assert (find_resource(KINDS, group, plural) is not None) is expected


def test_api_version_of_the_core_group_has_no_slash() -> None:
    assert api_version("", "v1") == "v1"
    assert api_version("apps", "v1") == "apps/v1"
