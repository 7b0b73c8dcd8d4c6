"""aigov's configuration: one place for every number and pattern that decides.

The Rego policies receive `policy_data()` as `input.config`; the operator's
phase computation reads the same `TierRequirement`s. Defaults are built in and
a YAML file (``--config`` / ``AIGOV_CONFIG``) may override any of them.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from aigov.core.workloads import KINDS, WorkloadKind

GROUP = "aigov.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "AISystem"
PLURAL = "aisystems"
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


class Detection(_Camel):
    """How an AI workload is recognised. Globs use `/` as the delimiter.

    Image globs match the normalised reference `repository[:tag]` with any
    `docker.io/` or `docker.io/library/` prefix and any `@digest` removed.
    """

    image_patterns: tuple[str, ...] = (
        "vllm/vllm-openai*",
        "nvcr.io/nvidia/tritonserver*",
        "ghcr.io/huggingface/text-generation-inference*",
        "pytorch/torchserve*",
        "tensorflow/serving*",
        "ollama/ollama*",
        "ghcr.io/ggml-org/llama.cpp:server*",
        "ghcr.io/ggml-org/llama.cpp:full*",
        "ghcr.io/ggerganov/llama.cpp*",
        "lmsysorg/sglang*",
        "nvcr.io/nim/**",
        "seldonio/mlserver*",
        "kserve/**",
        "rayproject/ray*",
    )
    ignored_image_patterns: tuple[str, ...] = (
        "istio/proxyv2*",
        "gcr.io/istio-release/proxyv2*",
        "cr.l5d.io/linkerd/proxy*",
        "envoyproxy/envoy*",
        "ghcr.io/linkerd/proxy*",
    )
    accelerator_resources: tuple[str, ...] = (
        "nvidia.com/gpu",
        "nvidia.com/mig-*",
        "amd.com/gpu",
        "gpu.intel.com/*",
        "habana.ai/gaudi",
        "aws.amazon.com/neuron*",
        "google.com/tpu",
    )


class Identity(_Camel):
    """Who may write which governance record, and who may relax a namespace's enforcement (bound in the API server).

    `enforcement_admin_groups` alone may set or change the `aigov.io/enforcement` label to anything but
    `enforce` (aigov.install.namespace_policy). A ValidatingAdmissionPolicy binds `system:masters` too, so it
    is listed: the break-glass identity can switch a namespace `off` in an outage with one command.
    """

    assessor_groups: tuple[str, ...] = ("aigov:assessors",)
    approver_groups: tuple[str, ...] = ("aigov:approvers",)
    operator_usernames: tuple[str, ...] = ("system:serviceaccount:aigov-system:aigov-operator",)
    enforcement_admin_groups: tuple[str, ...] = Field(
        default=("aigov:admins", "system:masters"),
        min_length=1,
        description="groups that may set or change a namespace's aigov.io/enforcement label",
    )


def _default_tiers() -> dict[RiskTier, TierRequirement]:
    return {
        RiskTier.PROHIBITED: TierRequirement(deployable=False, min_approvals=0),
        RiskTier.HIGH: TierRequirement(min_approvals=2, required_roles=("risk-officer",), require_pinned_images=True),
        RiskTier.LIMITED: TierRequirement(min_approvals=1),
        RiskTier.MINIMAL: TierRequirement(min_approvals=1),
    }


class Config(_Camel):
    """Everything that decides, handed to Rego as `input.config`."""

    system_label: str = SYSTEM_LABEL
    enforcement_label: str = ENFORCEMENT_LABEL
    default_enforcement: EnforcementMode = EnforcementMode.ENFORCE
    warning_window_days: int = Field(default=14, ge=0, description="warn this long before a record expires")
    tiers: dict[RiskTier, TierRequirement] = Field(default_factory=_default_tiers)
    detection: Detection = Detection()
    identity: Identity = Identity()
    extra_kinds: tuple[WorkloadKind, ...] = Field(
        default=(), description="kinds the platform adds to the built-in table (aigov.core.workloads.KINDS)"
    )

    @property
    def kinds(self) -> tuple[WorkloadKind, ...]:
        """The built-in kinds and the extra ones; an extra kind replaces a built-in one of the same group and kind."""
        extra = {(k.group, k.kind) for k in self.extra_kinds}
        return (*(k for k in KINDS if (k.group, k.kind) not in extra), *self.extra_kinds)

    def requirement(self, tier: RiskTier | str) -> TierRequirement:
        """The requirement for `tier`; unknown tiers are not deployable."""
        try:
            return self.tiers[RiskTier(tier)]
        except (ValueError, KeyError):
            return TierRequirement(deployable=False, min_approvals=0)

    def policy_data(self) -> dict[str, Any]:
        """The JSON object the policies read as `input.config`: `kinds` holds the whole table."""
        data = self.model_dump(mode="json", by_alias=True, exclude={"extra_kinds"})
        data["kinds"] = [kind.policy_data() for kind in self.kinds]
        return data


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
