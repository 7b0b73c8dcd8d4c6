"""The generated CRD: structural, self-documenting, and identical to the committed YAML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from aigov.cli.app import app
from aigov.core.controls import ControlId
from aigov.install import crd

CRDS = Path(__file__).resolve().parents[2] / "crds"
FORBIDDEN = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "title", "default", "additionalProperties"}


def _nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _nodes(prop, f"{path}.{name}")
    if "items" in schema:
        yield from _nodes(schema["items"], f"{path}[]")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return crd.aisystem_schema()


def test_committed_crds_match_the_models() -> None:
    committed = {p.name: p.read_text() for p in CRDS.glob("*.yaml")}
    assert committed == crd.rendered(), "crds/ is stale: run `aigov crd --out crds` and commit the result"


def test_schema_is_structural(schema: dict[str, Any]) -> None:
    for path, node in _nodes(schema):
        assert not FORBIDDEN & node.keys(), f"{path or '<root>'}: {FORBIDDEN & node.keys()}"
        assert "type" in node, f"{path}: no type"
        if node["type"] == "object" and path != ".metadata":
            assert "properties" in node or node.get("x-kubernetes-preserve-unknown-fields"), path


def test_every_property_has_a_description(schema: dict[str, Any]) -> None:
    properties = [(p, n) for p, n in _nodes(schema) if p not in ("", ".metadata") and not p.endswith("[]")]
    assert [p for p, n in properties if not n.get("description")] == []


def test_metadata_is_left_to_the_api_server(schema: dict[str, Any]) -> None:
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert schema["required"] == ["spec"]


def test_closed_sets_are_enums(schema: dict[str, Any]) -> None:
    spec = schema["properties"]["spec"]["properties"]
    assert spec["riskTier"]["enum"] == ["prohibited", "high", "limited", "minimal"]
    assert spec["controls"]["items"]["properties"]["id"]["enum"] == [c.value for c in ControlId]
    assert spec["lifecycle"]["properties"]["stage"]["enum"][-1] == "retired"
    check = spec["monitoring"]["properties"]["checks"]["items"]["properties"]
    assert check["comparator"]["enum"] == [">", ">=", "<", "<="]
    assert check["for"]["pattern"]


def test_optional_fields_are_nullable_except_enums(schema: dict[str, Any]) -> None:
    spec = schema["properties"]["spec"]["properties"]
    assert spec["displayName"]["nullable"] is True
    assert spec["owner"]["nullable"] is True
    status = schema["properties"]["status"]["properties"]
    assert "nullable" not in status["phase"]  # a kept null would fail the enum; a non-nullable null is pruned
    assert "nullable" not in spec["riskTier"]
    assert "nullable" not in spec["purpose"]


def test_list_map_keys_are_required(schema: dict[str, Any]) -> None:
    maps = [(p, n) for p, n in _nodes(schema) if n.get("x-kubernetes-list-type") == "map"]
    assert {p for p, _ in maps} >= {".spec.controls", ".spec.monitoring.checks", ".status.conditions"}
    for path, node in maps:
        assert set(node["x-kubernetes-list-map-keys"]) <= set(node["items"]["required"]), path


def test_cel_rules_are_present(schema: dict[str, Any]) -> None:
    rules = {r["rule"] for _, n in _nodes(schema) for r in n.get("x-kubernetes-validations", [])}
    assert any("expiresAt > self.decidedAt" in r for r in rules)
    assert any("expiresAt > self.completedAt" in r for r in rules)
    assert any("has(self.owner)" in r for r in rules)


def test_crd_names_columns_and_subresources() -> None:
    doc = crd.aisystem_crd()
    assert doc["metadata"]["name"] == "aisystems.aigov.io"
    names = doc["spec"]["names"]
    assert (names["kind"], names["shortNames"], names["categories"]) == ("AISystem", ["ais"], ["aigov"])
    (version,) = doc["spec"]["versions"]
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns == {
        "Risk": ".spec.riskTier",
        "Phase": ".status.phase",
        "Assessed Until": ".status.impactAssessment.expiresAt",
        "Approvals": ".status.approvedCount",
        "Suspended": ".status.suspension.active",
        "Age": ".metadata.creationTimestamp",
    }


def test_peering_crds_are_kopfs() -> None:
    kinds = {(d["spec"]["names"]["kind"], d["spec"]["scope"], d["spec"]["group"]) for d in crd.peering_crds()}
    assert kinds == {("ClusterKopfPeering", "Cluster", "kopf.dev"), ("KopfPeering", "Namespaced", "kopf.dev")}


def test_a_field_without_description_is_refused() -> None:
    class Bad(BaseModel):
        good: str = Field(description="fine")
        bad: int

    with pytest.raises(crd.SchemaError, match=r"Bad\.bad: every property needs a description"):
        crd.structural_schema(Bad)


def test_a_real_union_is_refused() -> None:
    class Bad(BaseModel):
        either: int | str = Field(description="one or the other")

    with pytest.raises(crd.SchemaError, match=r"Bad\.either: a union"):
        crd.structural_schema(Bad)


def test_yaml_has_no_anchors() -> None:
    text = crd.rendered()["aigov.io_aisystems.yaml"]
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == crd.aisystem_crd()


def test_cli_prints_and_writes(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["crd"])
    assert printed.exit_code == 0, printed.output
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(printed.output)] == [
        "aisystems.aigov.io",
        "aigovexceptions.aigov.io",
        "aimanagementsystems.aigov.io",
        "nonconformities.aigov.io",
        "aisystemarchives.aigov.io",
        "clusterkopfpeerings.kopf.dev",
        "kopfpeerings.kopf.dev",
    ]
    written = runner.invoke(app, ["crd", "--out", str(tmp_path / "out")])
    assert written.exit_code == 0, written.output
    assert {p.name: p.read_text() for p in (tmp_path / "out").iterdir()} == crd.rendered()
