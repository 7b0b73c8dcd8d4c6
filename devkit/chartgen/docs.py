"""values.yaml, values.schema.json and the README's values table, all from the `Values` model.

values.yaml carries each field's description as a `# --` comment above the key;
the schema is pydantic's JSON schema with every `$ref` inlined, closed objects
(`additionalProperties: false`) kept and titles and defaults dropped; the README
table lists every leaf value with its type, default and description.
"""

from __future__ import annotations

import inspect
import json
import textwrap
import types
import typing
from enum import Enum
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

Schema = dict[str, Any]
_WIDTH = 110


def _dump(value: Any) -> Any:
    """`value` as plain JSON data (models by alias)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {str(k.value if isinstance(k, Enum) else k): _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def _fields(model: BaseModel) -> list[tuple[str, FieldInfo, Any]]:
    """(key, field, value) of `model`: the class's own fields first, in source order, then inherited ones."""
    fields = type(model).model_fields
    own = [name for name in inspect.get_annotations(type(model)) if name in fields]
    names = own + [name for name in fields if name not in own]
    return [(fields[name].alias or name, fields[name], getattr(model, name)) for name in names]


def _description(field: FieldInfo, value: Any) -> str:
    """The field's description, else the first line of its model's docstring."""
    if field.description:
        return field.description
    doc = type(value).__doc__ if isinstance(value, BaseModel) else None
    return doc.strip().splitlines()[0] if doc else ""


def _scalar(value: Any) -> str:
    """A one-line YAML rendering of `value` (flow style for empty collections)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).removesuffix("\n...\n").strip()


def _emit(model: BaseModel, depth: int) -> list[str]:
    pad = "  " * depth
    lines: list[str] = []
    for key, field, value in _fields(model):
        if lines and depth == 0:
            lines.append("")
        description = _description(field, value)
        if description:
            wrapped = textwrap.wrap(description, _WIDTH - len(pad) - 5)
            lines += [f"{pad}# -- {wrapped[0]}", *(f"{pad}#    {line}" for line in wrapped[1:])]
        data = _dump(value)
        if isinstance(value, BaseModel):
            lines += [f"{pad}{key}:", *_emit(value, depth + 1)]
        elif isinstance(data, dict | list) and data:
            block = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=_WIDTH)
            lines += [f"{pad}{key}:", *textwrap.indent(block, pad + "  ").rstrip("\n").splitlines()]
        else:
            lines.append(f"{pad}{key}: {_scalar(data)}")
    return lines


def values_yaml(values: BaseModel, header: str) -> str:
    """values.yaml: every value with its description as a comment."""
    return header + "\n".join(_emit(values, 0)) + "\n"


def _inline(node: Any, defs: dict[str, Schema]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return {
        key: (_inline(value, defs) if key not in ("properties", "$defs") else _inline_map(value, defs))
        for key, value in node.items()
        if key not in ("title", "default", "$defs")
    }


def _inline_map(properties: dict[str, Any], defs: dict[str, Schema]) -> dict[str, Any]:
    return {name: _inline(prop, defs) for name, prop in properties.items()}


def values_schema(model: type[BaseModel]) -> Schema:
    """The chart's values.schema.json: closed objects, every `$ref` inlined."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    schema = _inline(raw, raw.get("$defs", {}))
    # Helm adds `global` to the values of every chart.
    schema["properties"]["global"] = {"type": "object", "description": "Helm's values shared with subcharts."}
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": "aigov chart values", **schema}


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{v}`" for v in typing.get_args(annotation))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    if origin in (list, tuple):
        return "list"
    if origin is dict:
        return "object"
    return {bool: "bool", int: "int", float: "number", str: "string"}.get(
        annotation, getattr(annotation, "__name__", "?")
    )


def _rows(model: BaseModel, prefix: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for key, field, value in _fields(model):
        path = f"{prefix}{key}"
        if isinstance(value, BaseModel):
            rows += _rows(value, f"{path}.")
            continue
        default = json.dumps(_dump(value), separators=(", ", ": "))
        rows.append(
            (path, _type_name(field.annotation), f"`{default}`", _description(field, value).replace("|", "\\|"))
        )
    return rows


def values_table(values: BaseModel) -> str:
    """The README's Markdown table of every value."""
    lines = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    lines += [
        f"| `{path}` | {kind} | {default} | {description} |" for path, kind, default, description in _rows(values, "")
    ]
    return "\n".join(lines) + "\n"
