"""Reading manifests: multi-document YAML, JSON, directories, stdin, Lists, errors with file:line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from aigov.cli.manifests import ManifestError, load, parse

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"


def test_multi_document_yaml_with_lines_and_empty_documents(tmp_path: Path) -> None:
    text = "# rendered by helm\n---\n" + DEPLOYMENT.format(name="a") + "---\n---\n\n" + DEPLOYMENT.format(name="b")
    file = tmp_path / "all.yaml"
    file.write_text(text)
    found = load([str(file)])
    assert [(m.obj["metadata"]["name"], m.line) for m in found] == [("a", 3), ("b", 10)]
    assert found[1].location == f"{file}:10"


def test_list_kinds_are_flattened_with_item_lines() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n"
    )
    found = parse(text, "list.yaml")
    assert [(m.obj["kind"], m.line) for m in found] == [("Pod", 4), ("Deployment", 7)]


def test_json_file_and_json_list(tmp_path: Path) -> None:
    file = tmp_path / "pods.json"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    file.write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [pod, pod]}, indent="\t"))
    assert [m.obj for m in load([str(file)])] == [pod, pod]


def test_directories_are_read_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.yml").write_text(DEPLOYMENT.format(name="two"))
    (tmp_path / "a.yaml").write_text(DEPLOYMENT.format(name="one"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert [m.obj["metadata"]["name"] for m in load([str(tmp_path)])] == ["one", "two"]


def test_stdin() -> None:
    found = load(["-"], stdin=io.StringIO(DEPLOYMENT.format(name="piped")))
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
        ("- a\n- b\n", "expected a Kubernetes object \\(a mapping\\), found a list"),
        ("just text\n", "found a string"),
        ("metadata:\n  name: x\n", "apiVersion and kind are required"),
    ],
)
def test_documents_that_are_not_objects(text: str, reason: str) -> None:
    with pytest.raises(ManifestError, match=f"^in.yaml:1: .*{reason}"):
        parse(text, "in.yaml")


def test_missing_path() -> None:
    with pytest.raises(ManifestError, match=r"nope\.yaml: no such file or directory"):
        load(["nope.yaml"])


def test_empty_input() -> None:
    assert parse("", "empty.yaml") == []
    assert parse("---\n# only a comment\n", "empty.yaml") == []
    assert parse("  ", "empty.json", as_json=True) == []
