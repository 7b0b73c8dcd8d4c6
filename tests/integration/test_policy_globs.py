"""`aigov.core.globs` against OPA's own `glob.match`: the precompiled regexes match exactly what the globs match."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aigov.core.config import GLOB_LISTS, Config, ConfigError, parse_config
from aigov.core.globs import any_of, glob_regex
from devkit import binaries

SYNTHETIC = [
    "a?c", "[abc]x", "[!abc]x", "[a-c]/*", "{foo,ba*}/x", "{a,{b,c}d}", "x\\*y", "a.b+c(d)|e$", "**/z", "*", "**",
    "nvidia.com/mig-*", "nim/**", "caf\u00e9*",
]  # fmt: skip
VALUES = [
    "", "abc", "axc", "a/c", "bx", "dx", "/x", "b/anything", "foo/x", "bar/x", "ba/x", "bar/y/x", "a", "bd", "cd", "d",
    "x*y", "xzy", "a.b+c(d)|e$", "abbc(d)|e$", "y/z", "z", "q/r/z", "nvidia.com/mig-1g.5gb", "nvidia.com/gpu",
    "nim/meta/llama3", "nim", "vllm/vllm-openai:v0.6.3", "vllm-openai:v0.6.3", "mirror/vllm", "tgi", "tgi-2",
    "tritonserver:24.01", "nginx:1.25", "busybox", "istio/proxyv2:1.22", "caf\u00e9-latte", "line\nbreak", "MODEL_ID",
]  # fmt: skip


def _opa_eval(data: dict[str, Any], query: str, tmp_path: Path) -> Any:
    """The value of `query` in OPA's `opa eval`, with `data` as data.t."""
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"t": data}))
    run = subprocess.run(
        [binaries.find("opa"), "eval", "--format=json", "--data", str(path), query],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)["result"][0]["expressions"][0]["value"]


def test_each_glob_translates_to_what_opa_matches(tmp_path: Path) -> None:
    detection = Config().detection
    patterns = sorted({p for name in GLOB_LISTS for p in getattr(detection, name)} | set(SYNTHETIC))
    regexes = {p: f"(?s)^(?:{glob_regex(p)})$" for p in patterns}
    query = (
        "[[p, v] | some p in data.t.patterns; some v in data.t.values; "
        'glob.match(p, ["/"], v) != regex.match(data.t.regex[p], v)]'
    )
    data = {"patterns": patterns, "values": VALUES, "regex": regexes}
    assert _opa_eval(data, query, tmp_path) == []
    matched = "count([1 | some p in data.t.patterns; some v in data.t.values; regex.match(data.t.regex[p], v)])"
    assert _opa_eval(data, matched, tmp_path) > 40, "the comparison is not vacuous: many pairs match"


def test_each_list_is_one_regex_matching_any_of_its_globs(tmp_path: Path) -> None:
    detection = Config().detection
    lists = {name: list(getattr(detection, name)) for name in GLOB_LISTS} | {"synthetic": SYNTHETIC, "empty": []}
    regexes = {name: any_of(patterns) for name, patterns in lists.items()}
    query = (
        "[[k, v] | some k, patterns in data.t.lists; some v in data.t.values; "
        'any([glob.match(p, ["/"], v) | some p in patterns]) != regex.match(data.t.regex[k], v)]'
    )
    assert _opa_eval({"lists": lists, "values": VALUES, "regex": regexes}, query, tmp_path) == []
    assert Config().policy_data()["detection"]["globRegex"]["imagePatterns"] == any_of(detection.image_patterns)


@pytest.mark.parametrize("pattern", ["models/[abc", "{a,b", "a}b"])
def test_a_glob_that_does_not_translate_is_a_configuration_error(pattern: str) -> None:
    with pytest.raises(ConfigError, match=r"configuration c\.yaml is invalid: detection\.imagePatterns: .*glob"):
        parse_config(json.dumps({"detection": {"imagePatterns": [pattern]}}), "c.yaml")
