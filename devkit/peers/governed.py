"""The Gatekeeper peer that does aigov's whole decision, not only the ungoverned detection.

Gatekeeper evaluates aigov's own admission policies (the shipped bundle's
`aigov/admission` modules) as a ConstraintTemplate's libs, with the AISystems and
namespaces synced into `data.inventory` (governed.rego assembles the input the
webhook would send). Gatekeeper parses no METADATA annotations and allows no data
but `data.inventory` and `data.lib`, so the modules are rewritten: package
`lib.aigov.admission`, the configuration inlined where config.rego reads
`data.aigov.config`, and each violation's `rego.metadata.rule()` replaced by its
METADATA block as an object.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from aigov.core.config import Config
from aigov.policy.bundle import read_bundle

TEMPLATE = "aigovgoverned"
CONSTRAINT_KIND = "AigovGoverned"
_MAIN = Path(__file__).with_name("governed.rego")
_PACKAGE = "package aigov.admission"
_CONFIG = "_config := data.aigov.config"
_METADATA = re.compile(r"^# METADATA\n((?:#.*\n)+)(.*rego\.metadata\.rule\(\).*)$", re.MULTILINE)
SYNCED = (
    {"group": "aigov.io", "version": "v1alpha1", "kind": "AISystem"},
    {"group": "", "version": "v1", "kind": "Namespace"},
)
"""What Gatekeeper replicates into data.inventory for the governed template."""


def _inline_metadata(match: re.Match[str]) -> str:
    block = yaml.safe_load("\n".join(line.removeprefix("#").removeprefix(" ") for line in match[1].splitlines()))
    return match[0].replace("rego.metadata.rule()", json.dumps(block, sort_keys=True), 1)


def libs(config: Config) -> list[str]:
    """aigov's admission modules, rewritten as Gatekeeper libs (see the module docstring)."""
    data = json.dumps(config.policy_data(), sort_keys=True)
    modules = []
    for path, source in sorted(read_bundle().modules.items()):
        if not path.startswith("aigov/admission/"):
            continue
        if source.count(_PACKAGE) != 1:
            raise ValueError(f"{path}: expected one {_PACKAGE!r}")
        text = _METADATA.sub(_inline_metadata, source.replace(_PACKAGE, "package lib.aigov.admission"))
        if path.endswith("/config.rego"):
            if _CONFIG not in text:
                raise ValueError(f"{path}: expected {_CONFIG!r}")
            text = text.replace(_CONFIG, f"_config := {data}")
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        if "rego.metadata" in code or "data.aigov" in code:
            raise ValueError(f"{path}: rego.metadata or data.aigov left after the rewrite")
        modules.append(text)
    return modules


def main_module() -> str:
    """The template's entry point (governed.rego)."""
    return _MAIN.read_text()


def source(config: Config) -> dict[str, Any]:
    """The template's Rego source: the entry point and the libs (`devkit.peers.gatekeeper_template`)."""
    return {"version": "v1", "rego": main_module(), "libs": libs(config)}


def sync_config() -> dict[str, Any]:
    """Gatekeeper's Config replicating AISystems and namespaces into data.inventory."""
    return {
        "apiVersion": "config.gatekeeper.sh/v1alpha1",
        "kind": "Config",
        "metadata": {"name": "config", "namespace": "gatekeeper-system"},
        "spec": {"sync": {"syncOnly": list(SYNCED)}},
    }
