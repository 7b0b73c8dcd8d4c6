"""aigov's configuration: one place for every number and pattern that decides.

The Rego policies read `policy_data()` as bundle data, `data.aigov.config` (aigov.policy.bundle); the operator's
phase computation reads the same `TierRequirement`s. Defaults are built in and
a YAML file (``--config`` / ``AIGOV_CONFIG``) may override any of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from aigov.core.globs import any_image, any_of, any_regex, glob_regex
from aigov.core.workloads import KINDS, WorkloadKind

GROUP = "aigov.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "AISystem"
PLURAL = "aisystems"
EXCEPTION_KIND = "AIGovException"
EXCEPTION_PLURAL = "aigovexceptions"
PROHIBITED_CODE = "AIGOV_PROHIBITED"
SYSTEM_LABEL = "aigov.io/system"
ENFORCEMENT_LABEL = "aigov.io/enforcement"


class RiskTier(StrEnum):
    """EU AI Act risk tiers."""

    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


class EnforcementMode(StrEnum):
    """What a violation does in a namespace (label `aigov.io/enforcement`)."""

    ENFORCE = "enforce"
    WARN = "warn"
    AUDIT = "audit"
    OFF = "off"


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class TierRequirement(_Camel):
    """What a system of one risk tier needs before its workloads may run."""

    deployable: bool = True
    require_assessment: bool = True
    min_approvals: int = Field(default=1, ge=0, description="valid approvals from distinct approvers")
    required_roles: tuple[str, ...] = Field(default=(), description="roles that at least one approver must hold")
    require_pinned_images: bool = Field(default=False, description="workload images must carry an @sha256 digest")
    require_model_digests: bool = Field(default=False, description="every spec.models entry must carry a digest")
    require_classification: bool = Field(
        default=False,
        description="spec.classification (EU AI Act) must be recorded, with an EU database ID for a provider",
    )
    max_approval_days: int = Field(
        default=366,
        ge=1,
        description="an approval expiring further ahead than this from now does not count; the record policy "
        "refuses one expiring further than this after it was decided",
    )
    max_assessment_days: int = Field(
        default=366,
        ge=1,
        description="an assessment expiring further ahead than this from now counts as expired; the record "
        "policy refuses one expiring further than this after it was completed",
    )


GLOB_LISTS = (
    "image_patterns", "excluded_image_patterns", "ignored_image_patterns", "accelerator_probe_images",
    "model_env", "accelerator_resources", "resource_claim_patterns", "runtime_classes",
)  # fmt: skip
"""The `Detection` fields that are glob lists: the policies match each as one regex (`Detection.glob_regex`)."""
IMAGE_GLOB_LISTS = GLOB_LISTS[:4]
"""The glob lists of image references, matched against every form of an image (`aigov.core.globs.any_image`)."""


class Detection(_Camel):
    """How an AI workload is recognised: every signal is data here, read by policies/aigov/admission/detection.rego.

    Image globs (`/` is the delimiter, matched lower-cased) are tried against the
    normalised reference and against every trailing part of its path (after a `/`),
    each with and without its tag: `vllm*` matches
    `registry:5000/mirror/vllm/vllm-openai:v0.8.5` through `vllm-openai:v0.8.5`,
    and `tensorflow/serving*` matches `harbor.corp/hub/tensorflow/serving:2.19`.
    Command and model patterns are RE2 regular expressions over a container's
    `command` and `args` joined by spaces (and a kind's command fields, such as
    a RayJob's `entrypoint`). docs/detection.md lists every signal.
    """

    image_patterns: tuple[str, ...] = (
        # Serving engines, whatever the registry and organisation (forks and vendor builds included).
        "*vllm*",
        "*sglang*",
        "tritonserver*",
        "*tensorrt-llm*",
        "tensorrt-llm/**",
        "*tensorrtllm*",
        "*text-generation-inference*",
        "tgi",
        "tgi-*",
        "*text-embeddings-inference*",
        "ollama*",
        "llama.cpp*",
        "llamacpp*",
        "llama-cpp*",
        "local-ai*",
        "localai*",
        "torchserve*",
        "tensorflow/serving*",
        "tensorflow-serving*",
        "openvino/model_server*",
        "ovms*",
        "mlserver*",
        "lmdeploy*",
        "xinference*",
        "infinity*",
        "nim/**",
        "jetstream-*",
        "sax-model-server*",
        "ray-ml*",
        "ray-llm*",
        # Cloud deep-learning containers for inference and training (AWS, Google, Hugging Face).
        "*pytorch-inference*",
        "*pytorch-training*",
        "*tensorflow-inference*",
        "*tensorflow-training*",
        "huggingface-pytorch-*",
        # Model servers and explainers of KServe and Seldon.
        "sklearnserver*",
        "xgbserver*",
        "lgbserver*",
        "pmmlserver*",
        "paddleserver*",
        "huggingfaceserver*",
        "*-explainer*",
        "alibi-detect-server*",
        # Training.
        "axolotl*",
        "*horovod*",
        "*llama-factory*",
        "*torchtune*",
        "*mnist*",
    )
    excluded_image_patterns: tuple[str, ...] = (
        # The platforms' own controllers, operators and routers, and client tools: infrastructure, not models.
        "*-controller",
        "*-controller:*",
        "*controller-manager*",
        "*-operator",
        "*-operator:*",
        "operator",
        "operator:*",
        "*-router",
        "*-router:*",
        "tritonserver:*-sdk*",
        "*-cli",
        "*-cli:*",
    )
    ignored_image_patterns: tuple[str, ...] = (
        "istio/proxyv2*",
        "cr.l5d.io/linkerd/proxy*",
        "envoyproxy/envoy*",
        "linkerd/proxy*",
    )
    command_patterns: tuple[str, ...] = (
        r"\bvllm\s+serve\b",
        r"\bvllm\.entrypoints\b",
        r"\bsglang\.launch_server\b",
        r"\btext-generation-launcher\b",
        r"\btext-embeddings-router\b",
        r"\btritonserver\b",
        r"\btrtllm-serve\b",
        r"\btorchserve\s+--start\b",
        r"\btensorflow_model_server\b",
        r"\bmlserver\s+start\b",
        r"\bollama\s+(serve|run)\b",
        r"\bllama-server\b",
        r"\blocal-ai\b",
        r"\blmdeploy\s+serve\b",
        r"\bxinference-local\b",
        r"\binfinity_emb\b",
        r"\bdynamo\.(vllm|sglang|trtllm)\b",
        r"\bdynamo\s+serve\b",
        r"\bray\.serve\.llm\b",
        r"\bserve\s+run\b",
        r"\btorchrun\b",
        r"\btorch\.distributed\.(run|launch)\b",
        r"\bdeepspeed\b",
        r"\baccelerate\s+launch\b",
        r"\baxolotl\b",
        r"\btrl\s+(sft|dpo|grpo|kto|reward)\b",
        r"\bllamafactory-cli\b",
        r"\btune\s+run\b",
        r"\bhorovodrun\b",
        r"(?i)\bpython[0-9.]*\s+(-u\s+)?\S*train\w*\.py\b",
        r"\bpip3?\s+install\b[^;&|\n]*\b(torch|transformers|diffusers|vllm|peft|trl|sentence-transformers)\b",
        r"\bpip:\s*(\[[^\]]*|(\s*-\s*\S+)*\s*-\s*)[\"']?(torch|transformers|diffusers|vllm|sentence-transformers)\b",
        r"(?i)\b(mnist|cifar-?100?|imagenet)\b",
    )
    model_patterns: tuple[str, ...] = (
        r"--(model|model[-_](id|path|name|dir|repository|store)|model_base_path|served[-_]model[-_]name|storage[-_]uri)"
        r"[= ]\S+",
        r"\bhf://\S+",
        r"\bmodel_(id|source)\s*:\s*\S+",
        # Hugging Face repository ids of well-known model publishers.
        r"\b(meta-llama|mistralai|google/gemma|Qwen|deepseek-ai|microsoft/[Pp]hi|tiiuae|bigscience|EleutherAI"
        r"|facebook/opt|BAAI|openai/whisper|stabilityai)/[\w.-]+",
    )
    model_env: tuple[str, ...] = (
        "MODEL_ID",
        "HF_MODEL_ID",
        "MODEL_NAME",
        "SERVED_MODEL_NAME",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HUGGINGFACE_HUB_TOKEN",
        "STORAGE_URI",
    )
    accelerator_resources: tuple[str, ...] = (
        "nvidia.com/gpu",
        "nvidia.com/mig-*",
        "nvidia.com/pgpu",
        "amd.com/gpu",
        "gpu.intel.com/*",
        "habana.ai/gaudi",
        "aws.amazon.com/neuron*",
        "google.com/tpu",
        "huawei.com/ascend*",
    )
    resource_claim_patterns: tuple[str, ...] = Field(
        default=("*",),
        description="DRA claims (pod resourceClaims: name, claim or template name) that count as accelerators",
    )
    runtime_classes: tuple[str, ...] = ("nvidia", "nvidia-*")
    accelerator_env: tuple[str, ...] = ("NVIDIA_VISIBLE_DEVICES",)
    accelerator_probe_images: tuple[str, ...] = Field(
        default=(
            "busybox*",
            "nginx*",
            "pause*",
            "agnhost*",
            "hello-app*",
            "cuda-sample*",
            "cuda-vector-add*",
            "*vectoradd*",
        ),
        description="containers that only hold or test a device: their accelerators are not AI evidence",
    )
    accelerator_probe_commands: tuple[str, ...] = (r"\bnvidia-smi\b", r"^(\S*/)?sleep\b")
    strict_namespace_label: str = Field(
        default="aigov.io/scope", description="namespace label whose value `strictNamespaceValue` makes it strict"
    )
    strict_namespace_value: str = "ai"
    not_ai_label: str = Field(default="aigov.io/not-ai", description='set to "true" to declare a workload not AI')
    not_ai_reason_annotation: str = Field(
        default="aigov.io/not-ai-reason", description="required with the not-AI label: why the workload is not AI"
    )

    @field_validator(*GLOB_LISTS)
    @classmethod
    def _globs_translate(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            glob_regex(pattern)  # GlobError, a ValueError: reported as this field's validation error
        return patterns

    def glob_regex(self) -> dict[str, str]:
        """Each glob list (camelCase name) as one anchored regex: the policies' `config.detection.globRegex`."""
        return {
            to_camel(name): (any_image if name in IMAGE_GLOB_LISTS else any_of)(getattr(self, name))
            for name in GLOB_LISTS
        }

    def regex_guards(self) -> dict[str, str]:
        """The command and model patterns each as one guard regex: the policies' `config.detection.anyRegex`."""
        return {"commandPatterns": any_regex(self.command_patterns), "modelPatterns": any_regex(self.model_patterns)}


def _default_role_groups() -> dict[str, tuple[str, ...]]:
    return {"risk-officer": ("aigov:risk-officers",)}


class Identity(_Camel):
    """Who may write which governance record, and who may relax a namespace's enforcement (bound in the API server).

    `enforcement_admin_groups` alone may set or change the `aigov.io/enforcement` label to anything but
    `enforce` (aigov.install.namespace_policy). A ValidatingAdmissionPolicy binds `system:masters` too, so it
    is listed: the break-glass identity can switch a namespace `off` in an outage with one command.
    """

    assessor_groups: tuple[str, ...] = ("aigov:assessors",)
    approver_groups: tuple[str, ...] = ("aigov:approvers",)
    operator_usernames: tuple[str, ...] = ("system:serviceaccount:aigov-system:aigov-operator",)
    role_groups: dict[str, tuple[str, ...]] = Field(
        default_factory=_default_role_groups,
        description="roles granted by group membership: an approval may claim a role listed here only when "
        "the approver is in one of its groups (other roles are free-text labels)",
    )

    enforcement_admin_groups: tuple[str, ...] = Field(
        default=("aigov:admins", "system:masters"),
        min_length=1,
        description="groups that may set or change a namespace's aigov.io/enforcement label",
    )
    retention_admin_groups: tuple[str, ...] = Field(
        default=("aigov:retention-admins",),
        description="groups that may delete an AISystemArchive (at the end of the retention period); "
        "nobody else may, and nobody but the operator writes one",
    )


class ExceptionPolicy(_Camel):
    """How long exceptions (AIGovException) may last, who grants break-glass, what is never waived."""

    max_days: int = Field(default=30, ge=1, le=365, description="an exception expires at most this long after creation")
    break_glass_hours: int = Field(
        default=4, ge=1, le=72, description="a break-glass exception lasts at most this long"
    )
    break_glass_groups: tuple[str, ...] = Field(
        default=("aigov:on-call",), description="groups that may grant a break-glass exception alone"
    )
    never_waivable: tuple[str, ...] = Field(
        default=(PROHIBITED_CODE,), description="violation codes no exception waives (AIGOV_PROHIBITED always)"
    )

    @field_validator("never_waivable")
    @classmethod
    def _prohibited_always(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        return codes if PROHIBITED_CODE in codes else (PROHIBITED_CODE, *codes)


def _default_tiers() -> dict[RiskTier, TierRequirement]:
    return {
        RiskTier.PROHIBITED: TierRequirement(deployable=False, min_approvals=0),
        RiskTier.HIGH: TierRequirement(
            min_approvals=2,
            required_roles=("risk-officer",),
            require_pinned_images=True,
            require_model_digests=True,
            require_classification=True,
        ),
        RiskTier.LIMITED: TierRequirement(min_approvals=1),
        RiskTier.MINIMAL: TierRequirement(min_approvals=1),
    }


class Config(_Camel):
    """Everything that decides, handed to Rego as `data.aigov.config` (bundle data)."""

    system_label: str = SYSTEM_LABEL
    enforcement_label: str = ENFORCEMENT_LABEL
    default_enforcement: EnforcementMode = EnforcementMode.ENFORCE
    warning_window_days: int = Field(default=14, ge=0, description="warn this long before a record expires")
    tiers: dict[RiskTier, TierRequirement] = Field(default_factory=_default_tiers)
    detection: Detection = Detection()
    identity: Identity = Identity()
    exceptions: ExceptionPolicy = ExceptionPolicy()
    extra_kinds: tuple[WorkloadKind, ...] = Field(
        default=(), description="kinds the platform adds to the built-in table (aigov.core.workloads.KINDS)"
    )

    @cached_property
    def kinds(self) -> tuple[WorkloadKind, ...]:
        """The built-in kinds and the extra ones; an extra kind replaces a built-in one of the same group and kind.

        Built once per Config (admission reads it for every review)."""
        extra = {(k.group, k.kind) for k in self.extra_kinds}
        return (*(k for k in KINDS if (k.group, k.kind) not in extra), *self.extra_kinds)

    def requirement(self, tier: RiskTier | str) -> TierRequirement:
        """The requirement for `tier`; unknown tiers are not deployable."""
        try:
            return self.tiers[RiskTier(tier)]
        except (ValueError, KeyError):
            return TierRequirement(deployable=False, min_approvals=0)

    def policy_data(self) -> dict[str, Any]:
        """The JSON object the policies read as `data.aigov.config`: `kinds` holds the whole table.

        Built once per Config (the model is frozen; ~1 ms of CPU each time otherwise):
        the same object on every call, so callers must not modify it.
        """
        return self._policy_data

    @cached_property
    def _policy_data(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True, exclude={"extra_kinds"})
        data["kinds"] = [kind.policy_data() for kind in self.kinds]
        data["kindIndex"] = kind_index(self.kinds)
        data["detection"]["globRegex"] = self.detection.glob_regex()
        data["detection"]["anyRegex"] = self.detection.regex_guards()
        return data

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (pydantic's), without the kinds and policy data cached for this one: `update` may change them."""
        copied = super().model_copy(update=update, deep=deep)
        for cached in ("kinds", "_policy_data"):
            copied.__dict__.pop(cached, None)
        return copied


def kind_index(kinds: Sequence[WorkloadKind]) -> dict[str, dict[str, int]]:
    """Group, then kind, to the entry's position in `kinds`: the policies find a kind by two lookups, not a scan."""
    index: dict[str, dict[str, int]] = {}
    for position, kind in enumerate(kinds):
        index.setdefault(kind.group, {}).setdefault(kind.kind, position)
    return index


class ConfigError(Exception):
    """A configuration file that cannot be used; the message says where and why."""


def load_config(path: Path | None = None) -> Config:
    """Defaults, overridden by the YAML file at `path` or `$AIGOV_CONFIG`."""
    source = path or (Path(os.environ["AIGOV_CONFIG"]) if os.environ.get("AIGOV_CONFIG") else None)
    if source is None:
        return Config()
    try:
        text = source.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {source}: {exc.strerror}") from exc
    return parse_config(text, str(source))


def parse_config(text: str, source: str) -> Config:
    """The configuration in YAML `text` read from `source` (named in errors)."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration {source} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"configuration {source} must be a mapping at the top level")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"configuration {source} is invalid: {problems}") from exc
