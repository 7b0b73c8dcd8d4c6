"""`aigov.core.globs` against OPA's own `glob.match`: the precompiled regexes match exactly what the globs match."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aigov.core.config import GLOB_LISTS, IMAGE_GLOB_LISTS, Config, ConfigError, parse_config
from aigov.core.globs import any_image, any_of, any_regex, glob_regex
from devkit import binaries

SYNTHETIC = [
    "a?c", "[abc]x", "[!abc]x", "[a-c]/*", "{foo,ba*}/x", "{a,{b,c}d}", "x\\*y", "a.b+c(d)|e$", "**/z", "*", "**",
    "nvidia.com/mig-*", "nim/**", "caf\u00e9*", "*ba.r*", "*-cli", "x+y", "*q(1)*",
]  # fmt: skip
VALUES = [
    "", "abc", "axc", "a/c", "bx", "dx", "/x", "b/anything", "foo/x", "bar/x", "ba/x", "bar/y/x", "a", "bd", "cd", "d",
    "x*y", "xzy", "a.b+c(d)|e$", "abbc(d)|e$", "y/z", "z", "q/r/z", "nvidia.com/mig-1g.5gb", "nvidia.com/gpu",
    "nim/meta/llama3", "nim", "vllm/vllm-openai:v0.6.3", "vllm-openai:v0.6.3", "mirror/vllm", "tgi", "tgi-2",
    "tritonserver:24.01", "nginx:1.25", "busybox", "istio/proxyv2:1.22", "caf\u00e9-latte", "line\nbreak", "MODEL_ID",
    "foo-cli", "xba.rx", "xbaxrx", "x+y", "xxy", "a/q(1)", "q1",
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
    single = [v for v in VALUES if "\n" not in v]
    joined = [f"{a}\n{b}" for a, b in zip(single, reversed(single), strict=True)]
    query = (
        "[[k, v] | some k, patterns in data.t.lists; some v in data.t.values; "
        'any([glob.match(p, ["/"], line) | some p in patterns; some line in split(v, "\\n")]) '
        "!= regex.match(data.t.regex[k], v)]"
    )
    data = {"lists": lists, "values": single + joined, "regex": regexes}
    assert _opa_eval(data, query, tmp_path) == [], "a value, or newline-joined values, match when one glob matches one"
    globs = Config().policy_data()["detection"]["globRegex"]
    assert globs["modelEnv"] == any_of(detection.model_env)
    assert globs["imagePatterns"] == any_image(detection.image_patterns)


IMAGES = [
    "vllm/vllm-openai:v0.6.3", "registry:5000/mirror/vllm/vllm-openai:v1", "nvcr.io/nim/meta/llama3:1.0",
    "nvcr.io/nim/meta/llama3", "istio/proxyv2:1.22", "ghcr.io/org/kube-rbac-proxy:v0.18", "tritonserver:24.01-py3-sdk",
    "nginx:1.25", "busybox", "localhost:5000/tgi", "example.com/team/my-operator:v2", "quay.io/x/tgi-2:latest",
    "x/operator", "a/b/c/d:e", "line\nbreak/vllm:1", "cr.l5d.io/linkerd/proxy:edge-24.1", "shop/storefront:4.12",
]  # fmt: skip


def _forms(ref: str) -> list[str]:
    """The forms an image list is tried on: the reference or any part after a `/`, with or without the tag."""
    name, tag = ref, ""
    if (found := re.fullmatch(r"(?s)(.+):([\w][\w.-]*)", ref)) and "/" not in found[2]:
        name, tag = found[1], found[2]
    starts = [0] + [i + 1 for i, char in enumerate(name) if char == "/"]
    return [name[i:] + suffix for i in starts for suffix in ("", f":{tag}" if tag else "")]


def test_each_image_list_is_one_regex_over_every_form_of_a_reference(tmp_path: Path) -> None:
    detection = Config().detection
    lists = {name: list(getattr(detection, name)) for name in IMAGE_GLOB_LISTS} | {"synthetic": SYNTHETIC}
    regexes = {name: any_image(patterns) for name, patterns in lists.items()}
    forms = {ref: _forms(ref) for ref in IMAGES}
    query = (
        "[[k, ref] | some k, patterns in data.t.lists; some ref, forms in data.t.forms; "
        'any([glob.match(p, ["/"], f) | some p in patterns; some f in forms]) != regex.match(data.t.regex[k], ref)]'
    )
    assert _opa_eval({"lists": lists, "forms": forms, "regex": regexes}, query, tmp_path) == []
    matched = "count([1 | some k, r in data.t.regex; some ref, _ in data.t.forms; regex.match(r, ref)])"
    assert _opa_eval({"forms": forms, "regex": regexes}, matched, tmp_path) > 10, "many pairs match"


def test_literal_globs_share_one_wildcard_loop_per_shape() -> None:
    regex = any_image(["*vllm*", "*sglang*", "ollama*", "localai*", "tgi", "nim/**"])
    assert "[^/]*(?:vllm|sglang)[^/]*" in regex and "(?:ollama|localai)[^/]*" in regex and "(?:tgi)" in regex
    assert regex.count("[^/]*") == 3, regex


def test_a_pattern_list_guard_matches_wherever_one_pattern_matches_one_text(tmp_path: Path) -> None:
    detection = Config().detection
    patterns = [*detection.command_patterns, *detection.model_patterns, *detection.accelerator_probe_commands]
    texts = [
        "vllm serve m", "/bin/sleep 10", "python -u TRAIN_lora.py", "node server.js", "echo sleep", "--model=x",
        "nvidia-smi -L", "pip install torch", "text-generation-launcher --port 80", "bash -c 'cd /app\nsleep 5'",
    ]  # fmt: skip
    query = (
        "[[t, any([regex.match(p, t) | some p in data.t.patterns]), "
        'regex.match(data.t.guard, concat("\\n", ["x y", t, "z"]))] | some t in data.t.texts]'
    )
    data = {"patterns": patterns, "texts": texts, "guard": any_regex(patterns)}
    results = _opa_eval(data, query, tmp_path)
    assert [t for t, matched, guarded in results if matched and not guarded] == [], "never missed"
    assert {t for t, _, guarded in results if not guarded} == {"node server.js", "echo sleep"}, "and selective"
    assert any_regex([r"\Avllm"]) == "", "a pattern anchored to the whole text makes the guard match everything"


@pytest.mark.parametrize("pattern", ["models/[abc", "{a,b", "a}b"])
def test_a_glob_that_does_not_translate_is_a_configuration_error(pattern: str) -> None:
    with pytest.raises(ConfigError, match=r"configuration c\.yaml is invalid: detection\.imagePatterns: .*glob"):
        parse_config(json.dumps({"detection": {"imagePatterns": [pattern]}}), "c.yaml")
