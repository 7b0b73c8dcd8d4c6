"""Build step of the wheel: carry the Rego policies as package data of `aigov`.

The policies live once, in the repository's `policies/`. `build_py` copies the
shipped modules (no `*_test.rego`, no `testdata/`) to `aigov/policies/` in the
build tree; an editable install reads `policies/` directly (aigov.policy.bundle).
Everything else is configured in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

POLICIES = Path(__file__).resolve().parent / "policies"


class BuildWithPolicies(build_py):
    """`build_py` that also copies the shipped policies into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "aigov" / "policies"
        shutil.rmtree(target, ignore_errors=True)
        for source in sorted(POLICIES.rglob("*.rego")):
            relative = source.relative_to(POLICIES)
            if source.name.endswith("_test.rego") or "testdata" in relative.parts:
                continue
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / relative)


setup(cmdclass={"build_py": BuildWithPolicies})
