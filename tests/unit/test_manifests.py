"""Reading manifests: multi-document YAML, JSON, directories, stdin, Lists, errors with file:line."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from aigov.cli.manifests import Manifest, ManifestError, load, parse

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"


def test_multi_document_yaml_with_lines_and_empty_documents(tmp_path: Path) -> None:
    text = "# rendered by helm\n---\n" + DEPLOYMENT.format(name="a") + "---\n---\n\n" + DEPLOYMENT.format(name="b")
    file = tmp_path / "all.yaml"
    file.write_text(text)
    found = load([str(file)]).manifests
    assert [(m.obj["metadata"]["name"], m.line) for m in found] == [("a", 3), ("b", 10)]
    assert found[1].location == f"{file}:10"


def test_list_kinds_are_flattened_with_item_lines() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n"
    )
    found = [m for m in parse(text, "list.yaml") if isinstance(m, Manifest)]
    assert [(m.obj["kind"], m.line) for m in found] == [("Pod", 4), ("Deployment", 7)]


def test_json_file_and_json_list(tmp_path: Path) -> None:
    file = tmp_path / "pods.json"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    file.write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [pod, pod]}, indent="\t"))
    assert [m.obj for m in load([str(file)]).manifests] == [pod, pod]


def test_directories_are_read_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.yml").write_text(DEPLOYMENT.format(name="two"))
    (tmp_path / "a.yaml").write_text(DEPLOYMENT.format(name="one"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert [m.obj["metadata"]["name"] for m in load([str(tmp_path)]).manifests] == ["one", "two"]


def test_stdin() -> None:
    found = load(["-"], stdin=io.StringIO(DEPLOYMENT.format(name="piped"))).manifests
    assert [(m.source, m.obj["metadata"]["name"]) for m in found] == [("<stdin>", "piped")]


def test_yaml_error_names_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(DEPLOYMENT.format(name="ok") + "---\nkind: Pod\nmetadata:\n\tname: tabbed\n")
    with pytest.raises(ManifestError, match=rf"^{file}:8:1: invalid YAML: found character '\\t'"):
        load([str(file)])


def test_json_error_names_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    file.write_text('{\n  "kind": "Pod",\n  oops\n}')
    with pytest.raises(ManifestError, match=rf"^{file}:3:3: invalid JSON"):
        load([str(file)])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- a\n- b\n", "a Kubernetes object is a mapping, this is a list"),
        ("just text\n", "this is a string"),
        ("metadata:\n  name: x\n", "no apiVersion and kind"),
        ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", "kustomize's Kustomization"),
    ],
)
def test_files_of_non_kubernetes_documents_are_skipped_or_refused(tmp_path: Path, text: str, reason: str) -> None:
    file = tmp_path / "in.yaml"
    file.write_text(text)
    loaded = load([str(tmp_path)])
    assert (loaded.manifests, len(loaded.skipped)) == ([], 1)
    assert re.match(rf"^{file}: skipped, not Kubernetes objects \(.*{reason}", loaded.skipped[0])
    with pytest.raises(ManifestError, match=rf"^{file}:1: not a Kubernetes object: .*{reason}.*\(--strict\)"):
        load([str(file)], strict=True)


def test_a_file_mixing_objects_and_other_documents_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "mixed.yaml"
    file.write_text(DEPLOYMENT.format(name="ok") + "---\nreplicaCount: 3\n")
    with pytest.raises(ManifestError, match=rf"^{file}:6: not a Kubernetes object: no apiVersion and kind"):
        load([str(file)])


def test_gitops_directory_charts_and_excludes(tmp_path: Path) -> None:
    """values files and Chart sources are skipped with a note each; --exclude drops paths silently."""
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(DEPLOYMENT.format(name="web"))
    (tmp_path / "values-prod.yaml").write_text("replicaCount: 3\n")
    chart = tmp_path / "charts" / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (chart / "templates" / "d.yaml").write_text("{{ broken template\n")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.yaml").write_text(DEPLOYMENT.format(name="old"))
    loaded = load([str(tmp_path)], exclude=["legacy/*"])
    assert [m.obj["metadata"]["name"] for m in loaded.manifests] == ["web"]
    assert loaded.skipped == [
        f"{chart}: skipped, a Helm chart's source: check its output (helm template ... | aigov check -)",
        f"{tmp_path}/values-prod.yaml: skipped, not Kubernetes objects (no apiVersion and kind)",
    ]
    assert load([str(tmp_path)], exclude=["values-*.yaml", "charts/*", "legacy"]).skipped == []
    with pytest.raises(ManifestError, match=r"a Helm chart's source.*\(--strict\)"):
        load([str(tmp_path)], strict=True)


def test_missing_path() -> None:
    with pytest.raises(ManifestError, match=r"nope\.yaml: no such file or directory"):
        load(["nope.yaml"])


def test_empty_input() -> None:
    assert load(["-"], stdin=io.StringIO("")).manifests == []
    assert parse("", "empty.yaml") == []
    assert parse("---\n# only a comment\n", "empty.yaml") == []
    assert parse("  ", "empty.json", as_json=True) == []
