"""The hand-labelled detection corpus (tests/corpus): load it, decide every object as `aigov check` does, score it.

Each project directory holds `objects.yaml` (one object per document) and
`labels.yaml` (one label per document, same order: `ai`, `ordinary` or
`ambiguous`). Every object goes through `aigov.cli.check.decide_all` with no
AISystems, the default configuration and an unlabelled namespace: an `ai` object
should be denied with AIGOV_UNGOVERNED (recall), an `ordinary` one admitted
(false positives); `ambiguous` objects are reported but not scored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from aigov.cli import check, manifests
from aigov.core import workloads
from aigov.core.config import Config
from aigov.policy.bundle import read_bundle
from devkit.devcluster import ControlPlane

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
NAMESPACE = "corpus"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
UNGOVERNED = "AIGOV_UNGOVERNED"
BUILT_IN_GROUPS = {"", "apps", "batch"}
RECALL_TARGET = 0.97
FALSE_POSITIVE_LIMIT = 0.01


@dataclass(frozen=True, slots=True)
class Entry:
    """One corpus object with its hand label."""

    project: str
    manifest: manifests.Manifest
    label: str
    reason: str

    @property
    def obj(self) -> dict[str, Any]:
        """The Kubernetes object."""
        return self.manifest.obj

    @property
    def ref(self) -> str:
        """`project Kind/name`."""
        return f"{self.project} {self.obj['kind']}/{self.obj['metadata']['name']}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What aigov said about one entry."""

    entry: Entry
    reviewed: bool
    flagged: bool
    evidence: str

    @property
    def miss(self) -> bool:
        """An `ai` object admitted, or an `ordinary` one denied."""
        return (self.entry.label == "ai" and not self.flagged) or (self.entry.label == "ordinary" and self.flagged)


def load(root: Path = CORPUS) -> list[Entry]:
    """Every labelled object of every project under `root`; kinds and names must line up with the labels."""
    entries: list[Entry] = []
    for labels_file in sorted(root.glob("*/labels.yaml")):
        project = labels_file.parent.name
        labels = yaml.safe_load(labels_file.read_text())["objects"]
        objects = manifests.load([str(labels_file.parent / "objects.yaml")], strict=True).manifests
        if len(labels) != len(objects):
            raise ValueError(f"{project}: {len(objects)} objects but {len(labels)} labels")
        for label, manifest in zip(labels, objects, strict=True):
            if (label["kind"], label["name"]) != (manifest.obj.get("kind"), manifest.obj["metadata"].get("name")):
                raise ValueError(f"{manifest.location}: labelled {label['kind']}/{label['name']}")
            entries.append(Entry(project, manifest, label["label"], label["reason"]))
    return entries


def decide(entries: Sequence[Entry], opa_url: str, config: Config | None = None) -> list[Verdict]:
    """Each entry through the real OPA exactly as `aigov check` decides it (no AISystems, unlabelled namespace)."""
    config = config or Config()
    reviewed = [e for e in entries if check.is_workload(e.obj, config)]
    results = asyncio.run(
        check.decide_all(
            opa_url,
            read_bundle(),
            workloads=[(e.manifest, NAMESPACE) for e in reviewed],
            systems={},
            namespace_labels={},
            config=config,
            now=NOW,
        )
    )
    by_id = {id(e): r for e, r in zip(reviewed, results, strict=True)}
    verdicts = []
    for entry in entries:
        result = by_id.get(id(entry))
        violations = result.decision.violations if result else []
        ungoverned = [v.message for v in violations if v.code == UNGOVERNED]
        verdicts.append(Verdict(entry, result is not None, bool(ungoverned), _evidence(ungoverned)))
    return verdicts


def _evidence(messages: Sequence[str]) -> str:
    """The evidence list of an AIGOV_UNGOVERNED message: the text in the parentheses after "AI workload"."""
    if not messages:
        return ""
    text = messages[0]
    start = text.find("AI workload (")
    end = text.find(") but has no")
    return text[start + len("AI workload (") : end] if start >= 0 and end > start else text


@dataclass(frozen=True, slots=True)
class Score:
    """Recall on `ai` objects and false-positive rate on `ordinary` ones."""

    ai: int
    detected: int
    ordinary: int
    flagged: int

    @property
    def recall(self) -> float:
        """Detected AI objects over all AI objects (1.0 when there are none)."""
        return self.detected / self.ai if self.ai else 1.0

    @property
    def false_positives(self) -> float:
        """Flagged ordinary objects over all ordinary objects (0.0 when there are none)."""
        return self.flagged / self.ordinary if self.ordinary else 0.0


def score(verdicts: Sequence[Verdict]) -> Score:
    """The score of `verdicts` (ambiguous entries excluded)."""
    ai = [v for v in verdicts if v.entry.label == "ai"]
    ordinary = [v for v in verdicts if v.entry.label == "ordinary"]
    return Score(len(ai), sum(v.flagged for v in ai), len(ordinary), sum(v.flagged for v in ordinary))


def by_project(verdicts: Sequence[Verdict]) -> dict[str, Score]:
    """The score of each project, in name order."""
    projects = sorted({v.entry.project for v in verdicts})
    return {p: score([v for v in verdicts if v.entry.project == p]) for p in projects}


def _crd(group: str, kind: str, versions: list[str]) -> dict[str, Any]:
    entry = workloads.find(Config().kinds, group, kind)
    assert entry is not None
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{entry.resource}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": entry.resource, "listKind": f"{kind}List"},
            "versions": [
                {"name": v, "served": True, "storage": i == 0, "schema": schema} for i, v in enumerate(versions)
            ],
        },
    }


def install_crds(kube: ControlPlane, objects: Sequence[dict[str, Any]]) -> None:
    """A minimal CRD (`x-kubernetes-preserve-unknown-fields`) for each custom kind of `objects`, serving the
    versions they use; kinds already defined are left alone."""
    versions: dict[tuple[str, str], list[str]] = {}
    for obj in objects:
        group, version = workloads.split_api_version(obj["apiVersion"])
        if group not in BUILT_IN_GROUPS:
            seen = versions.setdefault((group, obj["kind"]), [])
            seen.extend([version] if version not in seen else [])
    for (group, kind), served in versions.items():
        crd = _crd(group, kind, served)
        name = crd["metadata"]["name"]
        if kube.kubectl("get", "crd", name, check=False).returncode == 0:
            continue
        kube.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(crd))
        kube.wait_established(f"{name}")
