"""Kubernetes manifests from files, directories and stdin, for `aigov check`.

YAML (multi-document: Helm and kustomize output) and JSON. Empty documents are
skipped and `List` kinds are flattened into their items. A file none of whose
documents is a Kubernetes object (Helm values, `Chart.yaml`, `kustomization.yaml`,
plain configuration) and a Helm chart's source directory are skipped with a
note, or refused with `strict`. Every problem raises `ManifestError` with a
`file:line: reason` message, never a parser traceback.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

STDIN = "-"
STDIN_SOURCE = "<stdin>"
SUFFIXES = (".yaml", ".yml", ".json")
CHART_FILE = "Chart.yaml"
# Kinds of kustomize's own configuration: they describe how to build manifests, they are not objects.
KUSTOMIZE_GROUP = "kustomize.config.k8s.io/"


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


@dataclass(slots=True)
class Loaded:
    """What `load` read: the objects, the files skipped (with why) and how many inputs were read."""

    manifests: list[Manifest] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    inputs: int = 0


def load(
    paths: Iterable[str], stdin: TextIO | None = None, *, exclude: Sequence[str] = (), strict: bool = False
) -> Loaded:
    """Every object in `paths` (files, directories searched recursively, `-` for stdin), in order.

    `exclude` globs match a file's path as given, its path below the directory named, or its name.
    """
    loaded = Loaded()
    for path in paths:
        if path == STDIN:
            loaded.inputs += 1
            _add(loaded, parse((stdin or sys.stdin).read(), STDIN_SOURCE), STDIN_SOURCE, strict)
            continue
        for file, note in _files(Path(path), exclude):
            loaded.inputs += 1
            if note:
                _skip(loaded, f"{file}: {note}", strict)
                continue
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
            _add(loaded, parse(text, str(file), as_json=file.suffix == ".json"), str(file), strict)
    return loaded


def _skip(loaded: Loaded, note: str, strict: bool) -> None:
    if strict:
        raise ManifestError(f"{note} (--strict)")
    loaded.skipped.append(note)


def _add(loaded: Loaded, documents: list[Manifest | Foreign], source: str, strict: bool) -> None:
    """A file's objects; a file of only non-Kubernetes documents is skipped, a mixed one is an error."""
    foreign = [d for d in documents if isinstance(d, Foreign)]
    objects = [d for d in documents if isinstance(d, Manifest)]
    if not foreign:
        loaded.manifests.extend(objects)
    elif objects or strict:
        hint = "" if objects else " (--strict)"
        raise ManifestError(f"{source}:{foreign[0].line}: not a Kubernetes object: {foreign[0].reason}{hint}")
    else:
        _skip(loaded, f"{source}: skipped, not Kubernetes objects ({foreign[0].reason})", strict)


def _excluded(file: Path, root: Path, exclude: Sequence[str]) -> bool:
    names = {str(file), file.name, file.relative_to(root).as_posix() if file.is_relative_to(root) else str(file)}
    return any(fnmatch.fnmatch(name, glob) for name in names for glob in exclude)


def _files(path: Path, exclude: Sequence[str]) -> Iterator[tuple[Path, str | None]]:
    """The files under `path` with a note for those to skip; a Helm chart's source is one skipped entry."""
    if not path.exists():
        raise ManifestError(f"{path}: no such file or directory")
    if not path.is_dir():
        yield path, None
        return
    charts = sorted(p.parent for p in path.rglob(CHART_FILE) if not _excluded(p.parent, path, exclude))
    for chart in charts:
        yield chart, "skipped, a Helm chart's source: check its output (helm template ... | aigov check -)"
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES):
        if not _excluded(file, path, exclude) and not any(file.is_relative_to(c) for c in charts):
            yield file, None


@dataclass(frozen=True, slots=True)
class Foreign:
    """A document that is not a Kubernetes object, and why."""

    line: int
    reason: str


def parse(text: str, source: str, *, as_json: bool = False) -> list[Manifest | Foreign]:
    """The objects (and non-Kubernetes documents) in one YAML (or JSON) text read from `source`."""
    if as_json:
        try:
            documents: list[tuple[Any, int]] = [(json.loads(text), 1)] if text.strip() else []
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        return [m for doc, line in documents for m in _objects(doc, source, line, None)]
    return list(_yaml_objects(text, source))


def _yaml_objects(text: str, source: str) -> Iterator[Manifest | Foreign]:
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


def _objects(doc: Any, source: str, line: int, node: yaml.Node | None) -> Iterator[Manifest | Foreign]:
    """`doc` as objects: nothing for an empty document, the items of a List."""
    if doc is None:
        return
    if not isinstance(doc, dict):
        yield Foreign(line, f"a Kubernetes object is a mapping, this is {_type(doc)}")
        return
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        lines = _item_lines(node)
        for index, item in enumerate(doc["items"]):
            yield from _objects(item, source, lines[index] if index < len(lines) else line, None)
        return
    if not isinstance(doc.get("apiVersion"), str) or not isinstance(kind, str) or not kind:
        yield Foreign(line, "no apiVersion and kind")
    elif doc["apiVersion"].startswith(KUSTOMIZE_GROUP):
        yield Foreign(line, f"kustomize's {kind}: check its output (kustomize build ... | aigov check -)")
    else:
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
