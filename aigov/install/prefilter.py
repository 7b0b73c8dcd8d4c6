"""The workloads' pre-filter: CEL `matchConditions` generated from the `Config` the Rego reads.

The API server sends a workload request to the webhook only when it can matter,
so ordinary workloads never depend on the webhook. The filter is a superset of
what policies/aigov/admission may deny or needs to see (tests/integration/
test_prefilter.py runs the corpus and the policy fixtures through both):

- serving and training kinds, and `pods/ephemeralcontainers`: always;
- a `scale` request: only when replicas neither fall nor reach zero (the Scale
  object carries no labels or images; scaling down is a stop, which the Rego
  always admits, so only a rise or an unchanged count can be refused);
- any other request of a kind of the table: the system label at any of the
  kind's label paths, or any detection signal (images, commands and args, model
  flags and env, storage URIs, accelerator resources and env, DRA claims,
  runtime classes, the kind's command fields) in `object` or `oldObject`, so a
  relabel on UPDATE is seen.

Signals are looser than the Rego where exactness would cost CEL (accelerator
probes and the not-AI declaration are left to the webhook), never tighter.
Strict namespaces cannot be told here (namespace labels are not visible to
`matchConditions`): `admission` gives them a second, unfiltered webhook entry.
Exception annotations only waive denials, so they need not be sent.

One condition per group of kinds sharing their paths (`!(kind of the group) ||
...`): every condition must hold, so each kind is judged by its own, and the
count stays under the API server's limit of 64.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable

from aigov.core import globs
from aigov.core.config import Config, Detection
from aigov.core.workloads import WorkloadKind, segments

MAX_MATCH_CONDITIONS = 64
"""The API server's limit per webhook."""
_STOPPED_ENV_VALUES = ("", "void", "none")


def glob_regex(patterns: Iterable[str]) -> str:
    """An RE2 alternation of OPA `glob.match(pattern, ["/"], value)` patterns (`aigov.core.globs.glob_regex` each)."""
    return "(?:" + "|".join(globs.glob_regex(p) for p in patterns) + ")"


def image_regex(patterns: Iterable[str]) -> str:
    """Matches a lower-cased image reference whose repository, or any trailing part of its path, matches a glob.

    As images.rego: the registry host and organisation do not matter
    (`harbor.corp/hub/vllm/vllm-openai:v1` matches `vllm*`), the tag may be part of the match or not.
    """
    return rf"^(?:[^@]*/)?{glob_regex(patterns)}(?::[\w][\w.-]*)?(?:@.*)?$"


def matches(value: str, regex: str | None) -> str:
    """CEL: `value` matches `regex`; false for an empty pattern list (None)."""
    return f"{value}.matches(r'''{regex}''')" if regex else "false"


def any_regex(patterns: Iterable[str]) -> str | None:
    """One RE2 expression matching where any of `patterns` does; None for none."""
    return "|".join(f"(?:{p})" for p in patterns) or None


def any_glob(patterns: tuple[str, ...]) -> str | None:
    """An anchored RE2 expression for glob patterns; None for none."""
    return f"^{glob_regex(patterns)}$" if patterns else None


def any_image(patterns: tuple[str, ...]) -> str | None:
    """`image_regex` of image globs; None for none."""
    return image_regex(patterns) if patterns else None


def _field(expr: str, names: Iterable[str]) -> str:
    return expr + "".join(f".?{name}" for name in names)


def exists_at(root: str, path: str, default: str, test: Callable[[str], str], depth: int = 0) -> str:
    """CEL: some value at the dotted `path` under `root` passes `test` (`default` where it is absent).

    A `*` segment fans out over list items and map values, as `workloads.values_at` and the Rego's `_at`.
    """
    head, *rest = segments(path)
    if not rest:
        return f"[{_field(root, head)}.orValue({default})].exists(v{depth}, {test(f'v{depth}')})"
    items, key, value = f"l{depth}", f"k{depth}", f"i{depth}"
    inner = exists_at(value, ".*.".join(".".join(part) for part in rest), default, test, depth + 1)
    return (
        f"[{_field(root, head)}.orValue([])].exists({items}, {items}.exists({key}, "
        f"[type({items}) == map ? {items}[{key}] : {key}].exists({value}, {inner})))"
    )


def _command_line(container: str) -> str:
    return f"({container}.?command.orValue([]) + {container}.?args.orValue([])).map(a, string(a)).join(' ')"


def _container_signal(d: Detection, c: str) -> str:
    """CEL: container `c` shows a signal of detection.rego (probes not excepted)."""
    image = f"{c}.?image.orValue('').lowerAscii()"
    kept = f"!{matches(image, any_image(d.ignored_image_patterns))}"
    engine = f"{matches(image, any_image(d.image_patterns))} && !{matches(image, any_image(d.excluded_image_patterns))}"
    texts = any_regex(d.command_patterns + d.model_patterns)
    name, value = "e.?name.orValue('')", "e.?value.orValue('')"
    env = (
        f"{matches(name, any_glob(d.model_env))} || {matches(value, any_regex(d.model_patterns))}"
        f" || ({name} in {json.dumps(list(d.accelerator_env))} && "
        f"!({value}.lowerAscii() in {json.dumps(list(_STOPPED_ENV_VALUES))}))"
    )
    accelerators = " || ".join(
        f"{c}.?resources.?{section}.orValue({{}}).exists(r, {matches('r', any_glob(d.accelerator_resources))})"
        for section in ("limits", "requests")
    )
    return " || ".join(
        [
            f"({kept} && ({engine} || {matches(_command_line(c), texts)}))",
            f"{c}.?env.orValue([]).exists(e, {env})",
            f"{c}.?storageUri.orValue('') != ''",
            accelerators,
        ]
    )


def _pod_spec_signal(d: Detection, s: str) -> str:
    """CEL: pod spec `s` shows a signal: any container's, a DRA claim or a runtime class."""
    containers = " + ".join(f"{s}.?{f}.orValue([])" for f in ("initContainers", "containers", "ephemeralContainers"))
    claim_names = "[r.?name.orValue(''), r.?resourceClaimName.orValue(''), r.?resourceClaimTemplateName.orValue('')]"
    return " || ".join(
        [
            f"({containers}).exists(c, {_container_signal(d, 'c')})",
            f"{s}.?resourceClaims.orValue([]).exists(r, {claim_names}.exists(n, "
            f"{matches('n', any_glob(d.resource_claim_patterns))}))",
            matches(f"{s}.?runtimeClassName.orValue('')", any_glob(d.runtime_classes)),
        ]
    )


def _kind_may_matter(config: Config, kind: WorkloadKind) -> str:
    """CEL: an object of `kind`, or its old version on UPDATE, is labelled or shows a signal."""
    d, label = config.detection, json.dumps(config.system_label)
    texts = any_regex(d.command_patterns + d.model_patterns)
    checks = [exists_at("o", p, "{}", lambda v: f"{v}[?{label}].orValue('') != ''") for p in kind.label_paths()]
    checks += [exists_at("o", p, "{}", lambda v: _pod_spec_signal(d, v)) for p in kind.pod_specs]
    checks += [exists_at("o", p, "{}", lambda v: _container_signal(d, v)) for p in kind.containers]
    checks += [exists_at("o", p, "''", lambda v: f"type({v}) == string && {matches(v, texts)}") for p in kind.commands]
    return f"(request.operation == 'UPDATE' ? [object, oldObject] : [object]).exists(o, {' || '.join(checks)})"


def _kind_test(kinds: Iterable[WorkloadKind]) -> str:
    names = sorted(f"{k.group}/{k.kind}" for k in kinds)
    return f"request.kind.?group.orValue('') + '/' + request.kind.kind in {json.dumps(names)}"


def match_conditions(config: Config) -> list[dict[str, str]]:
    """The pre-filter's conditions (all must hold for the API server to send a workload request)."""
    conditions = [
        {
            "name": "scale-not-down",
            "expression": "request.?subResource.orValue('') != 'scale' || "
            "(object.?spec.?replicas.orValue(0) > 0 && "
            "object.?spec.?replicas.orValue(0) >= oldObject.?spec.?replicas.orValue(0))",
        }
    ]
    by_shape: dict[tuple[tuple[str, ...], ...], list[WorkloadKind]] = defaultdict(list)
    for kind in config.kinds:
        if not kind.ai_by_kind:
            by_shape[(kind.label_paths(), kind.pod_specs, kind.containers, kind.commands)].append(kind)
    for index, kinds in enumerate(by_shape.values()):
        conditions.append(
            {
                "name": f"may-matter-{index}",
                "expression": f"request.?subResource.orValue('') != '' || !({_kind_test(kinds)}) || "
                f"{_kind_may_matter(config, kinds[0])}",
            }
        )
    if len(conditions) + 1 > MAX_MATCH_CONDITIONS:  # the operator-safety condition comes on top
        raise ValueError(f"{len(conditions)} pre-filter conditions: more kind shapes than the API server allows")
    return conditions
