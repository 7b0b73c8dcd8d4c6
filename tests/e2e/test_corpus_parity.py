"""Parity on the corpus: for a sample of tests/corpus objects, the live webhook (through a real API server)
and `aigov check` reach the same decision with the same codes.

Custom kinds get a minimal CRD (`corpus.install_crds`) serving the versions the sample uses.
Objects the API server rejects before admission (placeholder names such as `${JOB_ID}`,
invalid upstream specs) are not compared; they must stay a small part of the sample.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aigov.core import workloads
from aigov.core.config import Config
from devkit import corpus
from devkit.devcluster import ControlPlane
from devkit.devstack import AIGOV, Webhook

pytestmark = pytest.mark.cluster

EVERY = 6
"""Every sixth corpus object: about a hundred, across every project and kind."""


def _sample() -> list[dict[str, Any]]:
    objects = []
    for entry in corpus.load()[::EVERY]:
        obj = json.loads(json.dumps(entry.obj))
        obj["metadata"].pop("namespace", None)
        if workloads.of_object(Config().kinds, obj):
            objects.append(obj)
    return objects


def _live(kube: ControlPlane, namespace: str, obj: dict[str, Any]) -> tuple[bool, set[str]] | None:
    """The webhook's decision on a server-side dry-run create, or None when the API server refused it first."""
    result = kube.kubectl("create", "--dry-run=server", "-n", namespace, "-f", "-", input=json.dumps(obj), check=False)
    if result.returncode == 0:
        return True, set()
    if "denied the request" not in result.stderr:
        return None
    return False, set(re.findall(r"AIGOV_[A-Z_]+", result.stderr))


def test_webhook_and_check_agree_on_corpus_objects(
    kube: ControlPlane, namespace: str, aigov_cluster: Webhook, tmp_path: Path
) -> None:
    objects = _sample()
    corpus.install_crds(kube, objects)
    manifests = tmp_path / "sample.yaml"
    manifests.write_text(yaml.safe_dump_all(objects))
    report = subprocess.run(
        [AIGOV, "check", "-o", "json", "-n", namespace, "--opa-url", aigov_cluster.opa.url, str(manifests)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert report.returncode in (0, 1), report.stderr
    offline = [(e["allowed"], {v["code"] for v in e["violations"]}) for e in json.loads(report.stdout)]
    assert len(offline) == len(objects)

    compared, differ = 0, []
    for obj, decided in zip(objects, offline, strict=True):
        live = _live(kube, namespace, obj)
        if live is None:
            continue
        compared += 1
        if live != decided:
            differ.append(f"{obj['kind']}/{obj['metadata']['name']}: webhook {live}, check {decided}")
    assert differ == []
    assert compared >= 0.8 * len(objects), f"only {compared} of {len(objects)} sampled objects reached admission"
    assert any(not allowed for allowed, _ in offline) and any(allowed for allowed, _ in offline)
