"""The chart's generated files match their sources; values, schema and README agree."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from aigov.core.config import Config
from aigov.install import admission as registration
from aigov.install.rbac import webhook_rules
from devkit.chartgen import CHART, drift, generated
from devkit.chartgen.templates import TemplateError, _substitute
from devkit.chartgen.values import Values


def test_committed_chart_matches_the_generator() -> None:
    problems = drift()
    assert problems == [], "charts/aigov is out of date; run hack/gen-chart:\n" + "\n".join(problems)


def test_values_yaml_is_the_models_defaults_and_validates() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values == Values().model_dump(mode="json", by_alias=True)
    Values.model_validate(values)


def _objects(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, list):
        return [node for item in schema for node in _objects(item)]
    if not isinstance(schema, dict):
        return []
    nested = [node for value in schema.values() for node in _objects(value)]
    return [schema, *nested] if "properties" in schema else nested


def test_schema_closes_every_object_with_properties() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert "$ref" not in json.dumps(schema)
    objects = _objects(schema)
    assert len(objects) > 20
    for node in objects:
        if node is schema:
            continue
        assert node.get("additionalProperties") is False, f"open object in schema: {sorted(node['properties'])}"


def test_readme_rows_are_real_values_and_cover_every_top_level_key() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    table = (CHART / "README.md").read_text().split("## Values", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE)
    for row in rows:
        node = values
        for part in row.split("."):
            assert isinstance(node, dict) and part in node, f"README row {row} is not a value"
            node = node[part]
    assert {row.split(".")[0] for row in rows} == set(values)


def test_the_chart_carries_no_policies() -> None:
    assert not any(path.endswith(".rego") for path in generated())
    assert not list(CHART.rglob("*.rego")), "the policies ship in the aigov image, not in the chart"


def test_a_sentinel_the_chart_does_not_template_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="AIGOV_TPL_SOMETHING_NEW"):
        _substitute("name: AIGOV_TPL_SOMETHING_NEW\n")


def test_webhook_may_read_the_parent_of_every_scale_subresource_it_judges() -> None:
    vwc = registration.webhook_configuration(
        registration.Registration(registration.ServiceClient("ns", "svc")), Config()
    )
    scaled = {
        (rule["apiGroups"][0], resource.removesuffix("/scale"))
        for webhook in vwc["webhooks"]
        for rule in webhook["rules"]
        for resource in rule["resources"]
        if resource.endswith("/scale")
    }
    granted = {
        (group, resource)
        for rule in webhook_rules()
        if "get" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert scaled and scaled <= granted
