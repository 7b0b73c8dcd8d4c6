"""Generate aigov's CustomResourceDefinitions from the pydantic models (`aigov crd`).

The AISystem schema is pydantic's JSON schema made structural for Kubernetes:
every `$ref` inlined, `X | None` turned into `X` with `nullable: true`, titles
and defaults dropped (the API server stores what users wrote), and a
description required on every property. Also renders kopf's peering CRDs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from aigov.core.archive import ARCHIVE_KIND, ARCHIVE_PLURAL, AISystemArchive
from aigov.core.config import EXCEPTION_KIND, EXCEPTION_PLURAL, GROUP, KIND, PLURAL, VERSION
from aigov.core.exceptions import AIGovException
from aigov.core.management_system import MS_KIND, MS_PLURAL, AIManagementSystem
from aigov.core.model import AISystem
from aigov.core.nonconformity import NC_KIND, NC_PLURAL, Nonconformity

Schema = dict[str, Any]

_DROPPED = frozenset({"title", "default", "additionalProperties"})
_KEY_ORDER = ("description", "type", "format", "nullable", "enum", "pattern", "minLength", "maxLength")
_PEERING_GROUP = "kopf.dev"

PRINTER_COLUMNS: list[dict[str, str]] = [
    {"name": "Risk", "type": "string", "jsonPath": ".spec.riskTier", "description": "EU AI Act risk tier"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "description": "Governance phase"},
    {
        "name": "Assessed Until",
        "type": "string",
        "jsonPath": ".status.impactAssessment.expiresAt",
        "description": "When the impact assessment expires",
    },
    {
        "name": "Approvals",
        "type": "integer",
        "jsonPath": ".status.approvedCount",
        "description": "Distinct valid approvals",
    },
    {
        "name": "Suspended",
        "type": "boolean",
        "jsonPath": ".status.suspension.active",
        "description": "Whether the system is suspended",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


EXCEPTION_PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "State", "type": "string", "jsonPath": ".status.state", "description": "State computed by the operator"},
    {"name": "Expires", "type": "string", "jsonPath": ".spec.expiresAt", "description": "When it stops waiving"},
    {"name": "System", "type": "string", "jsonPath": ".spec.system", "description": "The AISystem covered"},
    {"name": "Break-Glass", "type": "boolean", "jsonPath": ".spec.breakGlass", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


class SchemaError(ValueError):
    """The models cannot be expressed as a structural schema; the message names the path."""


def structural_schema(
    model: type[BaseModel], overrides: dict[str, Schema] | None = None, undescribed: frozenset[str] = frozenset()
) -> Schema:
    """`model`'s JSON schema (by alias) as a Kubernetes structural OpenAPI v3 schema.

    `overrides` replaces top-level properties verbatim; `undescribed` names
    top-level properties exempt from the description rule.
    """
    raw = model.model_json_schema(by_alias=True, mode="validation")
    raw["properties"] = {**raw["properties"], **(overrides or {})}
    return _structural(raw, raw.get("$defs", {}), model.__name__, undescribed)


def _structural(node: Schema, defs: dict[str, Schema], path: str, undescribed: frozenset[str] = frozenset()) -> Schema:
    node = dict(node)
    node.pop("$defs", None)
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        node = {**_structural(target, defs, path), **node}
    if "allOf" in node:
        (only,) = node.pop("allOf")
        node = {**_structural(only, defs, path), **node}
    if "anyOf" in node:
        variants = [v for v in node.pop("anyOf") if v != {"type": "null"}]
        if len(variants) != 1:
            raise SchemaError(f"{path}: a union of several types cannot be structural")
        node = {**_structural(variants[0], defs, path), **node}
        # The API server checks a kept null against an enum and rejects it, so enums
        # stay non-nullable: the server then prunes a null like an absent field.
        if "enum" not in node:
            node["nullable"] = True
    out = {k: v for k, v in node.items() if k not in _DROPPED}
    if "properties" in out:
        out["properties"] = {
            name: _structural(prop, defs, f"{path}.{name}")
            if name in undescribed
            else _described(_structural(prop, defs, f"{path}.{name}"), f"{path}.{name}")
            for name, prop in out["properties"].items()
        }
    if "items" in out:
        out["items"] = _structural(out["items"], defs, f"{path}[]")
    if "type" not in out:
        raise SchemaError(f"{path}: no type")
    return dict(sorted(out.items(), key=lambda kv: _rank(kv[0])))


def _rank(key: str) -> tuple[int, str]:
    """Readable key order: what a field is first, then its shape, then Kubernetes extensions."""
    if key in _KEY_ORDER:
        return (_KEY_ORDER.index(key), "")
    return (len(_KEY_ORDER) + key.startswith("x-kubernetes-"), key)


def _described(schema: Schema, path: str) -> Schema:
    if not schema.get("description"):
        raise SchemaError(f"{path}: every property needs a description (it is `kubectl explain` text)")
    return schema


def aisystem_schema() -> Schema:
    """The openAPIV3Schema of AISystem; `metadata` is left to the API server (it allows no description)."""
    return structural_schema(AISystem, {"metadata": {"type": "object"}}, undescribed=frozenset({"metadata"}))


def aisystem_crd() -> Schema:
    """The AISystem CustomResourceDefinition (apiextensions.k8s.io/v1)."""
    return _crd(AISystem, kind=KIND, plural=PLURAL, scope="Namespaced", short="ais", columns=PRINTER_COLUMNS)


def _crd(
    model: type[BaseModel],
    *,
    kind: str,
    plural: str,
    scope: str,
    short: str,
    columns: list[dict[str, str]],
    status: bool = True,
) -> Schema:
    """A CRD of aigov's group from `model`, with `columns` for `kubectl get` and a status subresource if `status`."""
    schema = structural_schema(model, {"metadata": {"type": "object"}}, undescribed=frozenset({"metadata"}))
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["aigov"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    **({"subresources": {"status": {}}} if status else {}),
                    "additionalPrinterColumns": columns,
                }
            ],
        },
    }


def exception_crd() -> Schema:
    """The AIGovException CustomResourceDefinition (apiextensions.k8s.io/v1)."""
    return _crd(
        AIGovException,
        kind=EXCEPTION_KIND,
        plural=EXCEPTION_PLURAL,
        scope="Namespaced",
        short="aigovex",
        columns=EXCEPTION_PRINTER_COLUMNS,
    )


def management_system_crd() -> Schema:
    """The cluster-scoped AIManagementSystem CustomResourceDefinition (`aigov.core.management_system`)."""
    version = {"name": "Version", "type": "string", "jsonPath": ".spec.version", "description": "Revision"}
    age = PRINTER_COLUMNS[-1]
    return _crd(
        AIManagementSystem, kind=MS_KIND, plural=MS_PLURAL, scope="Cluster", short="aims", columns=[version, age]
    )


def nonconformity_crd() -> Schema:
    """The Nonconformity CustomResourceDefinition (`aigov.core.nonconformity`)."""
    columns = [
        {"name": "System", "type": "string", "jsonPath": ".spec.system", "description": "The AISystem"},
        {"name": "Source", "type": "string", "jsonPath": ".spec.source", "description": "What opened it"},
        {"name": "Closed By", "type": "string", "jsonPath": ".status.closure.closedBy", "description": "Who closed it"},
        {"name": "Effective", "type": "boolean", "jsonPath": ".status.effectiveness.effective",
         "description": "The effectiveness check passed"},
        {"name": "Due", "type": "string", "jsonPath": ".spec.dueAt", "description": "Close by"},
        PRINTER_COLUMNS[-1],
    ]  # fmt: skip
    return _crd(Nonconformity, kind=NC_KIND, plural=NC_PLURAL, scope="Namespaced", short="nc", columns=columns)


def archive_crd() -> Schema:
    """The cluster-scoped AISystemArchive CustomResourceDefinition (`aigov.core.archive`), without subresources."""
    columns = [
        {
            "name": "Namespace",
            "type": "string",
            "jsonPath": ".spec.system.namespace",
            "description": "The AISystem's namespace",
        },
        {"name": "System", "type": "string", "jsonPath": ".spec.system.name", "description": "The AISystem"},
        {"name": "Part", "type": "integer", "jsonPath": ".spec.part", "description": "Part of the archive"},
        PRINTER_COLUMNS[-1],
    ]
    return _crd(
        AISystemArchive,
        kind=ARCHIVE_KIND,
        plural=ARCHIVE_PLURAL,
        scope="Cluster",
        short="aisarchive",
        columns=columns,
        status=False,
    )


def peering_crds() -> list[Schema]:
    """kopf's peering CRDs (`ClusterKopfPeering`, `KopfPeering` in `kopf.dev/v1`) as kopf documents them."""
    return [
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{kind.lower()}s.{_PEERING_GROUP}"},
            "spec": {
                "scope": scope,
                "group": _PEERING_GROUP,
                "names": {"kind": kind, "plural": f"{kind.lower()}s", "singular": kind.lower()},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                                },
                            }
                        },
                    }
                ],
            },
        }
        for kind, scope in (("ClusterKopfPeering", "Cluster"), ("KopfPeering", "Namespaced"))
    ]


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no `&anchors` for repeated sub-schemas."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: Schema) -> str:
    """One YAML document, keys in definition order."""
    return "---\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=110, allow_unicode=True)


def rendered() -> dict[str, str]:
    """File name → YAML for every CRD, named like controller-gen does (`<group>_<plural>.yaml`)."""
    documents = [
        aisystem_crd(),
        exception_crd(),
        management_system_crd(),
        nonconformity_crd(),
        archive_crd(),
        *peering_crds(),
    ]
    return {f"{d['spec']['group']}_{d['spec']['names']['plural']}.yaml": to_yaml(d) for d in documents}


def write(out: Path) -> list[Path]:
    """Write every CRD into directory `out` (created if missing); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in rendered().items():
        path = out / name
        path.write_text(text)
        paths.append(path)
    return paths
