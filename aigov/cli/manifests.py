"""Kubernetes manifests from files, directories and stdin, for `aigov check`.

YAML (multi-document: Helm and kustomize output) and JSON. Empty documents are
skipped and `List` kinds are flattened into their items. Every problem raises
`ManifestError` with a `file:line: reason` message, never a parser traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

STDIN = "-"
SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """Input that is not a set of Kubernetes objects; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """One Kubernetes object and where it was read (1-based line of its start)."""

    obj: dict[str, Any]
    source: str
    line: int

    @property
    def location(self) -> str:
        """`file:line`."""
        return f"{self.source}:{self.line}"


def load(paths: Iterable[str], stdin: TextIO | None = None) -> list[Manifest]:
    """Every object in `paths` (files, directories searched recursively, `-` for stdin), in order."""
    manifests: list[Manifest] = []
    for path in paths:
        if path == STDIN:
            manifests.extend(parse((stdin or sys.stdin).read(), "<stdin>"))
            continue
        for file in _files(Path(path)):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
            manifests.extend(parse(text, str(file), as_json=file.suffix == ".json"))
    return manifests


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    if not path.exists():
        raise ManifestError(f"{path}: no such file or directory")
    return [path]


def parse(text: str, source: str, *, as_json: bool = False) -> list[Manifest]:
    """The objects in one YAML (or JSON) text read from `source`."""
    if as_json:
        try:
            documents: list[tuple[Any, int]] = [(json.loads(text), 1)] if text.strip() else []
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        return [m for doc, line in documents for m in _objects(doc, source, line, None)]
    return list(_yaml_objects(text, source))


def _yaml_objects(text: str, source: str) -> Iterator[Manifest]:
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            yield from _objects(loader.construct_document(node), source, node.start_mark.line + 1, node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ManifestError(f"{where}: invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _objects(doc: Any, source: str, line: int, node: yaml.Node | None) -> Iterator[Manifest]:
    """`doc` as objects: nothing for an empty document, the items of a List."""
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise ManifestError(f"{source}:{line}: expected a Kubernetes object (a mapping), found {_type(doc)}")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        lines = _item_lines(node)
        for index, item in enumerate(doc["items"]):
            yield from _objects(item, source, lines[index] if index < len(lines) else line, None)
        return
    if not isinstance(doc.get("apiVersion"), str) or not isinstance(kind, str) or not kind:
        raise ManifestError(f"{source}:{line}: not a Kubernetes object: apiVersion and kind are required")
    yield Manifest(doc, source, line)


def _item_lines(node: yaml.Node | None) -> list[int]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "items" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _type(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)
