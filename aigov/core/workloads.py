"""The one table of workload kinds, and what follows from it: binding, pod specs, summaries.

Pure: no API calls. `KINDS` says, for every kind aigov reviews, where its pod
specs and system labels sit, whether it has a `scale` subresource, how a
suspension stops it and whether the kind itself makes it an AI workload. The
policies' data (`Config.policy_data()["kinds"]`), the webhook registration, RBAC,
the operator's binding and suspension, and the evidence collector all read it,
so a kind is either reviewed everywhere or nowhere. A platform team adds kinds
with `Config.extra_kinds`.

Paths are dotted field names; a `*` segment stands for every item of a list or
every value of a map (at most two per path), e.g.
`spec.replicatedJobs.*.template.spec.template.spec`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from aigov.core.config import Config

WILDCARD = "*"
MAX_WILDCARDS = 2
NODE_SELECTOR_PATH = ("spec", "template", "spec", "nodeSelector")
"""Where a DaemonSet's stop node selector goes."""
STOP_NODE_LABEL = "aigov.io/stopped"
"""The node-selector key that parks a stopped DaemonSet: no node carries it."""


class Role(StrEnum):
    """Whether a kind makes its objects AI workloads, or only the pod specs they embed can."""

    WORKLOAD = "workload"
    """A built-in controller kind: AI when its pod specs show a signal."""
    WRAPPER = "wrapper"
    """A custom kind embedding pod templates (LeaderWorkerSet, JobSet, Ray...): judged by those pod specs."""
    SERVING = "serving"
    """A model-serving custom kind: an AI workload by definition."""
    TRAINING = "training"
    """A model-training custom kind: an AI workload by definition."""


class StopMethod(StrEnum):
    """How a suspension stops a kind (and how admission recognises a stopped object)."""

    SCALE = "scale"
    """`spec.replicas` to 0 through the `scale` subresource."""
    SUSPEND = "suspend"
    """A boolean field (`stop_path`) set to true."""
    ANNOTATION = "annotation"
    """An annotation (`stop_path` is its key) set to "true"."""
    NODE_SELECTOR = "nodeSelector"
    """A DaemonSet's pod template gets the node selector `stop_path: "true"`, which no node carries."""
    DELETE = "delete"
    """A bare Pod is deleted (its spec kept in the suspension record)."""
    NONE = "none"
    """aigov cannot stop this kind; admission still gates it."""


class WorkloadKind(BaseModel):
    """One kind aigov reviews."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    group: str = Field(description="API group, empty for the core group")
    version: str = Field(description="preferred API version")
    kind: str
    resource: str = Field(description="the plural resource name")
    role: Role = Role.WORKLOAD
    pod_specs: tuple[str, ...] = Field(default=(), description="paths of embedded PodSpecs")
    containers: tuple[str, ...] = Field(default=(), description="paths of single containers outside pod specs")
    commands: tuple[str, ...] = Field(
        default=(), description="paths of command strings outside containers (a RayJob's entrypoint), read by detection"
    )
    labels: tuple[str, ...] = Field(
        default=(), description="extra paths of label maps, after metadata.labels and the pod templates' labels"
    )
    scale: bool = Field(default=False, description="serves the scale subresource")
    stop: StopMethod = StopMethod.NONE
    stop_path: str = Field(default="", description="the suspend field, stop annotation or stop node-selector key")

    @field_validator("pod_specs", "containers", "commands", "labels")
    @classmethod
    def _at_most_two_wildcards(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            if path.split(".").count(WILDCARD) > MAX_WILDCARDS:
                raise ValueError(f"{path}: at most {MAX_WILDCARDS} '*' segments")
        return paths

    @property
    def api_group_version(self) -> str:
        """`group/version`, or `version` for the core group."""
        return api_version(self.group, self.version)

    @property
    def ai_by_kind(self) -> bool:
        """Whether every object of this kind is an AI workload."""
        return self.role in (Role.SERVING, Role.TRAINING)

    def label_paths(self) -> tuple[str, ...]:
        """Where the system label may sit, in the order it is read: the object, its pod templates, extras."""
        templates = tuple(f"{p[: -len('.spec')]}.metadata.labels" for p in self.pod_specs if p.endswith(".spec"))
        ordered = ("metadata.labels", *templates, *self.labels)
        return tuple(dict.fromkeys(ordered))

    def stop_field(self) -> list[str]:
        """The full path of the field that says the object is stopped (an annotation or label key is one segment)."""
        if self.stop == StopMethod.ANNOTATION:
            return ["metadata", "annotations", self.stop_path]
        if self.stop == StopMethod.NODE_SELECTOR:
            return [*NODE_SELECTOR_PATH, self.stop_path]
        return self.stop_path.split(".") if self.stop_path else []

    @property
    def stop_value(self) -> bool | str | None:
        """The value `stop_field` holds while the object is stopped (None: the kind has no stop field)."""
        if self.stop == StopMethod.SUSPEND:
            return True
        if self.stop in (StopMethod.ANNOTATION, StopMethod.NODE_SELECTOR):
            return "true"
        return None

    def policy_data(self) -> dict[str, Any]:
        """The entry of `data.aigov.config.kinds`: paths split into segments between wildcards, as Rego reads them."""
        return {
            "group": self.group,
            "kind": self.kind,
            "role": self.role.value,
            "podSpecs": [segments(p) for p in self.pod_specs],
            "containers": [segments(p) for p in self.containers],
            "commands": [segments(p) for p in self.commands],
            "labels": [segments(p) for p in self.label_paths()],
            "stop": {"method": self.stop.value, "path": self.stop_field(), "value": self.stop_value},
        }


def segments(path: str) -> list[list[str]]:
    """`a.b.*.c` as `[["a", "b"], ["c"]]`: the ground parts between wildcards."""
    parts: list[list[str]] = [[]]
    for name in path.split(".") if path else []:
        if name == WILDCARD:
            parts.append([])
        else:
            parts[-1].append(name)
    return parts


def _k(group: str, version: str, kind: str, resource: str, **fields: Any) -> WorkloadKind:
    return WorkloadKind(group=group, version=version, kind=kind, resource=resource, **fields)


_SCALE = {"scale": True, "stop": StopMethod.SCALE}
_SUSPEND = {"stop": StopMethod.SUSPEND, "stop_path": "spec.suspend"}
_KUBEFLOW_SUSPEND = {"stop": StopMethod.SUSPEND, "stop_path": "spec.runPolicy.suspend"}
_TEMPLATE = ("spec.template.spec",)
_RAY_CLUSTER = ("headGroupSpec.template.spec", "workerGroupSpecs.*.template.spec")

KINDS: tuple[WorkloadKind, ...] = (
    # Built-in controllers.
    _k("", "v1", "Pod", "pods", pod_specs=("spec",), stop=StopMethod.DELETE),
    _k("", "v1", "ReplicationController", "replicationcontrollers", pod_specs=_TEMPLATE, **_SCALE),
    _k("apps", "v1", "Deployment", "deployments", pod_specs=_TEMPLATE, **_SCALE),
    _k("apps", "v1", "ReplicaSet", "replicasets", pod_specs=_TEMPLATE, **_SCALE),
    _k("apps", "v1", "StatefulSet", "statefulsets", pod_specs=_TEMPLATE, **_SCALE),
    _k(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        pod_specs=_TEMPLATE,
        stop=StopMethod.NODE_SELECTOR,
        stop_path=STOP_NODE_LABEL,
    ),
    _k("batch", "v1", "Job", "jobs", pod_specs=_TEMPLATE, **_SUSPEND),
    _k(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        pod_specs=("spec.jobTemplate.spec.template.spec",),
        labels=("spec.jobTemplate.metadata.labels",),
        **_SUSPEND,
    ),
    # Wrappers: judged by the pod templates they embed.
    _k(
        "leaderworkerset.x-k8s.io",
        "v1",
        "LeaderWorkerSet",
        "leaderworkersets",
        role=Role.WRAPPER,
        pod_specs=("spec.leaderWorkerTemplate.leaderTemplate.spec", "spec.leaderWorkerTemplate.workerTemplate.spec"),
        **_SCALE,
    ),
    _k(
        "jobset.x-k8s.io",
        "v1alpha2",
        "JobSet",
        "jobsets",
        role=Role.WRAPPER,
        pod_specs=("spec.replicatedJobs.*.template.spec.template.spec",),
        labels=("spec.replicatedJobs.*.template.metadata.labels",),
        **_SUSPEND,
    ),
    _k(
        "ray.io",
        "v1",
        "RayCluster",
        "rayclusters",
        role=Role.WRAPPER,
        pod_specs=tuple(f"spec.{p}" for p in _RAY_CLUSTER),
        stop=StopMethod.SUSPEND,
        stop_path="spec.suspend",
    ),
    _k(
        "ray.io",
        "v1",
        "RayJob",
        "rayjobs",
        role=Role.WRAPPER,
        pod_specs=(*(f"spec.rayClusterSpec.{p}" for p in _RAY_CLUSTER), "spec.submitterPodTemplate.spec"),
        commands=("spec.entrypoint",),
        **_SUSPEND,
    ),
    _k(
        "ray.io",
        "v1",
        "RayCronJob",
        "raycronjobs",
        role=Role.WRAPPER,
        pod_specs=tuple(f"spec.jobTemplate.rayClusterSpec.{p}" for p in _RAY_CLUSTER),
        commands=("spec.jobTemplate.entrypoint",),
        **_SUSPEND,
    ),
    _k(
        "ray.io",
        "v1",
        "RayService",
        "rayservices",
        role=Role.WRAPPER,
        pod_specs=tuple(f"spec.rayClusterConfig.{p}" for p in _RAY_CLUSTER),
        commands=("spec.serveConfigV2",),
    ),
    _k("serving.knative.dev", "v1", "Service", "services", role=Role.WRAPPER, pod_specs=_TEMPLATE),
    _k("argoproj.io", "v1alpha1", "Rollout", "rollouts", role=Role.WRAPPER, pod_specs=_TEMPLATE, **_SCALE),
    _k(
        "kubeflow.org",
        "v2beta1",
        "MPIJob",
        "mpijobs",
        role=Role.WRAPPER,
        pod_specs=("spec.mpiReplicaSpecs.*.template.spec",),
        **_KUBEFLOW_SUSPEND,
    ),
    _k(
        "trainer.kubeflow.org",
        "v1alpha1",
        "TrainJob",
        "trainjobs",
        role=Role.WRAPPER,
        containers=("spec.trainer", "spec.initializer.model"),
        **_SUSPEND,
    ),
    _k(
        "orchestration.aibrix.ai",
        "v1alpha1",
        "StormService",
        "stormservices",
        role=Role.WRAPPER,
        pod_specs=("spec.template.spec.roles.*.template.spec",),
        labels=("spec.template.metadata.labels",),
        **_SCALE,
    ),
    _k(
        "orchestration.aibrix.ai",
        "v1alpha1",
        "RoleSet",
        "rolesets",
        role=Role.WRAPPER,
        pod_specs=("spec.roles.*.template.spec",),
        labels=("spec.roles.*.template.metadata.labels",),
    ),
    # Model serving: AI by definition.
    _k(
        "serving.kserve.io",
        "v1beta1",
        "InferenceService",
        "inferenceservices",
        role=Role.SERVING,
        pod_specs=("spec.predictor", "spec.transformer", "spec.explainer"),
        containers=("spec.predictor.model",),
        labels=("spec.predictor.labels",),
        stop=StopMethod.ANNOTATION,
        stop_path="serving.kserve.io/stop",
    ),
    _k("serving.kserve.io", "v1alpha2", "LLMInferenceService", "llminferenceservices", role=Role.SERVING),
    _k("serving.kserve.io", "v1alpha1", "TrainedModel", "trainedmodels", role=Role.SERVING),
    _k("serving.kserve.io", "v1alpha1", "Predictor", "predictors", role=Role.SERVING),
    _k(
        "machinelearning.seldon.io",
        "v1",
        "SeldonDeployment",
        "seldondeployments",
        role=Role.SERVING,
        pod_specs=("spec.predictors.*.componentSpecs.*.spec",),
    ),
    _k("mlops.seldon.io", "v1alpha1", "Model", "models", role=Role.SERVING),
    _k("mlops.seldon.io", "v1alpha1", "Server", "servers", role=Role.SERVING, pod_specs=("spec.podSpec",)),
    _k("apps.nvidia.com", "v1alpha1", "NIMService", "nimservices", role=Role.SERVING),
    _k("apps.nvidia.com", "v1alpha1", "NIMPipeline", "nimpipelines", role=Role.SERVING),
    _k("model.aibrix.ai", "v1alpha1", "ModelAdapter", "modeladapters", role=Role.SERVING),
    _k(
        "kaito.sh",
        "v1beta1",
        "Workspace",
        "workspaces",
        role=Role.SERVING,
        pod_specs=("inference.template.spec",),
    ),
    _k("kubeai.org", "v1", "Model", "models", role=Role.SERVING),
    _k("production-stack.vllm.ai", "v1alpha1", "VLLMRuntime", "vllmruntimes", role=Role.SERVING),
    _k("nvidia.com", "v1beta1", "DynamoGraphDeployment", "dynamographdeployments", role=Role.SERVING),
    # Model training with a framework's own kind: AI by definition (MPIJob and TrainJob are generic: wrappers).
    *(
        _k(
            "kubeflow.org",
            version,
            kind,
            f"{kind.lower()}s",
            role=Role.TRAINING,
            pod_specs=(f"spec.{field}.*.template.spec",),
            **_KUBEFLOW_SUSPEND,
        )
        for version, kind, field in (
            ("v1", "PyTorchJob", "pytorchReplicaSpecs"),
            ("v1", "TFJob", "tfReplicaSpecs"),
            ("v1", "XGBoostJob", "xgbReplicaSpecs"),
            ("v1", "PaddleJob", "paddleReplicaSpecs"),
            ("v1", "JAXJob", "jaxReplicaSpecs"),
        )
    ),
)
"""Every kind aigov reviews out of the box (the policies, the webhook, RBAC and the operator all read it)."""


def api_version(group: str, version: str) -> str:
    """`group/version`, or just `version` for the core group."""
    return f"{group}/{version}" if group else version


def split_api_version(value: str) -> tuple[str, str]:
    """(group, version) of an `apiVersion` such as `apps/v1` or `v1`."""
    group, _, version = value.rpartition("/")
    return group, version


def find(kinds: Iterable[WorkloadKind], group: str, kind: str) -> WorkloadKind | None:
    """The entry for (group, kind), or None."""
    return next((k for k in kinds if k.group == group and k.kind == kind), None)


def find_resource(kinds: Iterable[WorkloadKind], group: str, resource: str) -> WorkloadKind | None:
    """The entry for (group, plural resource), or None."""
    return next((k for k in kinds if k.group == group and k.resource == resource), None)


def of_object(kinds: Iterable[WorkloadKind], obj: Mapping[str, Any]) -> WorkloadKind | None:
    """The entry for an object's `apiVersion` and `kind`, or None."""
    group, _ = split_api_version(str(obj.get("apiVersion", "")))
    return find(kinds, group, str(obj.get("kind", "")))


def resolve(obj: Any, path: str) -> Iterator[Any]:
    """Every value at `path` in `obj` (a `*` segment fans out over list items and map values)."""
    parts = segments(path)
    nodes: list[Any] = [obj]
    for i, ground in enumerate(parts):
        if i:
            nodes = [item for node in nodes for item in _children(node)]
        nodes = [v for v in (_dig(node, ground) for node in nodes) if v is not None]
    yield from nodes


def _children(node: Any) -> Sequence[Any]:
    if isinstance(node, Mapping):
        return list(node.values())
    return node if isinstance(node, list) else []


def _dig(value: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def system_label(obj: Mapping[str, Any] | None, config: Config) -> str | None:
    """The AISystem name `obj` is labelled with: on the object, else on its pod templates (as the policies read it)."""
    if not isinstance(obj, Mapping):
        return None
    entry = of_object(config.kinds, obj)
    for path in entry.label_paths() if entry else ("metadata.labels",):
        for labels in resolve(obj, path):
            value = labels.get(config.system_label) if isinstance(labels, Mapping) else None
            if isinstance(value, str) and value:
                return value
    return None
