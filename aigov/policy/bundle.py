"""The policy bundle: the Rego modules aigov ships, the configuration they read, and OPA's copy of them.

The Rego source lives in the repository's `policies/` only. A wheel carries it
as package data (`aigov/policies/`, copied by setup.py's build step without
tests or test data); a source checkout or editable install reads `policies/`
itself. `$AIGOV_POLICY_DIR` overrides both. The configuration's policy data
(`Config.policy_data`) goes into the bundle as `data.aigov.config`, loaded by
OPA once instead of sent with every decision. The bundle's sha256 covers every
module's path and text and that data; its version is aigov's version plus the
first twelve hex digits of that sha256.

`write_bundle` lays the modules and `data.json` out as an OPA bundle directory
whose `.manifest` carries the sha256 as its revision and owns every path (roots
`[""]`), so an OPA started with `opa run --bundle <dir>` refuses REST writes to
policies and data, and readiness can compare the revision OPA reports with
the one the webhook ships (a bundle built from another configuration differs).
`python -m aigov.policy.bundle --out DIR --config FILE` does it in the chart's
init container, from the same ConfigMap the webhook reads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aigov
from aigov.core.config import Config, ConfigError, load_config

__all__ = ["POLICY_DIR_ENV", "Bundle", "PolicyError", "policy_dir", "read_bundle", "write_bundle"]

POLICY_DIR_ENV = "AIGOV_POLICY_DIR"
PACKAGED_DIR = Path(aigov.__file__).resolve().parent / "policies"
"""Where a wheel carries the policies."""
SOURCE_DIR = Path(aigov.__file__).resolve().parents[1] / "policies"
"""Where a source checkout (or an editable install) has them."""
MANIFEST = ".manifest"
DATA = "data.json"
CONFIG_PATH = ("aigov", "config")
"""Where the configuration sits in OPA's data: `data.aigov.config`."""


class PolicyError(RuntimeError):
    """The policy bundle cannot be found or read, or OPA refuses it; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """The policy modules (relative path -> Rego text), the data document OPA loads with them, and their sha256."""

    modules: dict[str, str]
    sha256: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """aigov's version and the start of the sha256, e.g. `0.1.0+3f2a9c01b7de`."""
        return f"{aigov.__version__}+{self.sha256[:12]}"


def policy_dir() -> Path:
    """`$AIGOV_POLICY_DIR`, else the wheel's package data, else the source checkout's `policies/`."""
    configured = os.environ.get(POLICY_DIR_ENV)
    if configured:
        return Path(configured)
    for candidate in (PACKAGED_DIR, SOURCE_DIR):
        if candidate.is_dir():
            return candidate
    raise PolicyError(
        f"no aigov policies found: ${POLICY_DIR_ENV} is unset and neither {PACKAGED_DIR} (installed wheel) "
        f"nor {SOURCE_DIR} (source checkout) exists; reinstall aigov or set ${POLICY_DIR_ENV}"
    )


def _shipped(path: Path, directory: Path) -> bool:
    relative = path.relative_to(directory)
    return not path.name.endswith("_test.rego") and "testdata" not in relative.parts


def config_data(config: Config) -> dict[str, Any]:
    """The data document carrying `config`'s policy data at `data.aigov.config`."""
    outer, inner = CONFIG_PATH
    return {outer: {inner: config.policy_data()}}


def _encode_data(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def read_bundle(directory: Path | None = None, config: Config | None = None) -> Bundle:
    """Every shipped `.rego` file under `directory` (default `policy_dir()`), keyed by its relative path,
    with the policy data of `config` (default: the built-in configuration)."""
    directory = directory or policy_dir()
    files = sorted(p for p in directory.rglob("*.rego") if _shipped(p, directory))
    if not files:
        raise PolicyError(f"no aigov policies found: no policy files (*.rego) under {directory}")
    modules = {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8") for p in files}
    data = config_data(config or Config())
    digest = hashlib.sha256()
    for module_id, text in modules.items():
        digest.update(module_id.encode() + b"\0" + text.encode() + b"\0")
    digest.update(DATA.encode() + b"\0" + _encode_data(data) + b"\0")
    return Bundle(modules, digest.hexdigest(), data)


def write_bundle(bundle: Bundle, target: Path) -> Path:
    """Write `bundle` as an OPA bundle directory at `target`: absent, empty, or a bundle written before."""
    if (target / MANIFEST).is_file():
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise PolicyError(f"cannot write the policy bundle into {target}: the directory holds other files")
    for module_id, text in bundle.modules.items():
        path = target / module_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if bundle.data:
        (target / DATA).write_bytes(_encode_data(bundle.data))
    manifest = {"revision": bundle.sha256, "roots": [""], "metadata": {"version": bundle.version}}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return target


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m aigov.policy.bundle`."""
    cli = argparse.ArgumentParser(
        prog="python -m aigov.policy.bundle", description="Write the shipped policy bundle for `opa run --bundle DIR`."
    )
    cli.add_argument("--out", type=Path, required=True, help="directory to write the bundle into (empty, or a bundle)")
    cli.add_argument(
        "--config", type=Path, help="aigov configuration YAML the bundle carries (default $AIGOV_CONFIG, else built-in)"
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    """`python -m aigov.policy.bundle --out DIR`."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        bundle = read_bundle(config=load_config(args.config))
        write_bundle(bundle, args.out)
    except (PolicyError, ConfigError, OSError) as exc:
        cli.exit(2, f"error: {exc}\n")
    print(f"wrote policy bundle {bundle.version} (sha256 {bundle.sha256}) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
