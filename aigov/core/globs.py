"""Glob lists as one RE2 regular expression each, for the policies' bundle data.

Rego's `glob.match(pattern, ["/"], value)` costs a builtin call per pattern and
value (48 image patterns, several candidates per image); OPA does not cache its
results between queries. One `regex.match` of the alternation of all patterns
does the same work in one call (compiled once and cached by OPA): about 8-10x
less evaluation time (docs/benchmarks.md). The translation follows OPA's glob
syntax with `/` as the delimiter: `*` any run without `/`, `**` any run, `?`
one character but `/`, `[...]` / `[!...]` a (negated) class, `{a,b}`
alternatives, `\\` escapes the next character.
`any_of` builds the list's regex in multi-line mode, where no wildcard crosses a
newline: it matches a value when the value, or one of its lines, is matched by a
glob; the policies join an image's candidate forms by newlines and test them in
one call (images.rego). tests/integration/test_policy_globs.py checks both against
OPA's own `glob.match`.
"""

from __future__ import annotations

from collections.abc import Iterable

NEVER = r"[^\s\S]"
"""Matches nothing: the regex of an empty pattern list."""
_SPECIAL = frozenset("\\.+*?()|[]{}^$")
"""RE2's metacharacters outside a class (Go's regexp refuses escapes of anything but punctuation)."""


_GLOB_SYNTAX = frozenset("*?[]{}\\")
"""What makes a glob more than a literal."""

_NL = "\\n"
"""A newline in an RE2 class."""


class GlobError(ValueError):
    """A glob pattern that cannot be translated (unbalanced brackets or braces)."""


def glob_regex(pattern: str, *, lines: bool = False) -> str:
    """The unanchored RE2 regex matching what `glob.match(pattern, ["/"], value)` matches.

    With `lines`, no wildcard matches a newline (for `any_of`'s multi-line regex).
    """
    regex, end = _translate(pattern, 0, in_braces=False, lines=lines)
    if end != len(pattern):
        raise GlobError(f"glob {pattern!r}: unbalanced '}}' at {end}")
    return regex


def any_of(patterns: Iterable[str]) -> str:
    """One regex matching a line exactly when one of `patterns` does (never, for none).

    Multi-line: `^` and `$` anchor at each line's start and end, and no wildcard crosses
    a newline, so a value without newlines matches exactly when a glob matches it, and
    newline-joined values match when one of them does.
    """
    parts = _factored(patterns, lines=True)
    return f"(?m)^(?:{'|'.join(parts)})$" if parts else NEVER


def any_image(patterns: Iterable[str]) -> str:
    """One regex over a lower-cased `[registry/]repository[:tag]` matching when one of `patterns` matches a form of it.

    The forms: the whole reference, or any trailing part of its path (from the start or
    after a `/`), with or without the tag. So `vllm*` matches
    `registry:5000/mirror/vllm/vllm-openai:v1` and `nim/**` matches `nvcr.io/nim/meta/llama3:1`.
    One call per image and list, without building the forms (images.rego).
    """
    parts = _factored(patterns, lines=False)
    return rf"(?s)^(?:.*/)?(?:{'|'.join(parts)})(?::[\w][\w.-]*)?$" if parts else NEVER


def any_regex(patterns: Iterable[str]) -> str:
    """A regex that matches a text, or newline-joined texts, wherever one of the RE2 `patterns` matches one.

    The policies test it first, over all texts at once, and look for each pattern only when it
    matches: a guard, never the evidence. Multi-line, so a pattern's `^` and `$` still match at
    each text's start and end; a pattern anchored to the whole text (`\\A`, `\\z`) makes the
    guard match everything.
    """
    parts = list(patterns)
    if any("\\A" in p or "\\z" in p for p in parts):
        return ""
    return f"(?m)(?:{')|(?:'.join(parts)})" if parts else NEVER


def _factored(patterns: Iterable[str], *, lines: bool) -> list[str]:
    """The alternatives of a list's regex, with the globs that are a literal between optional `*`s grouped.

    `*vllm*`, `*sglang*` become one `[^/]*(?:vllm|sglang)[^/]*` (likewise `ollama*`,
    `localai*` and exact names): the same language, but Go's regexp then runs one
    wildcard loop per group instead of one per glob, about half the matching time.
    """
    star = f"[^/{_NL if lines else ''}]*"
    groups: dict[tuple[bool, bool], list[str]] = {}
    parts: list[str] = []
    for pattern in patterns:
        lead = pattern.startswith("*") and not pattern.startswith("**")
        trail = pattern.endswith("*") and not pattern.endswith("**") and len(pattern) > 1
        core = pattern[1 if lead else 0 : -1 if trail else None]
        if core and not _GLOB_SYNTAX.intersection(core):
            groups.setdefault((lead, trail), []).append("".join(map(_literal, core)))
        else:
            parts.append(glob_regex(pattern, lines=lines))
    for (lead, trail), literals in groups.items():
        parts.append(f"{star if lead else ''}(?:{'|'.join(literals)}){star if trail else ''}")
    return parts


def _translate(pattern: str, start: int, *, in_braces: bool, lines: bool) -> tuple[str, int]:
    """Translate from `start` up to the end, or (inside braces) up to an unescaped `,` or `}`."""
    out: list[str] = []
    i = start
    while i < len(pattern):
        char = pattern[i]
        if in_braces and char in ",}":
            return "".join(out), i
        if char == "*":
            double = pattern.startswith("**", i)
            out.append(".*" if double else f"[^/{_NL if lines else ''}]*")
            i += 2 if double else 1
            continue
        if char == "?":
            out.append(f"[^/{_NL if lines else ''}]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(_literal(pattern[i]))
        elif char == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                raise GlobError(f"glob {pattern!r}: unclosed '[' at {i}")
            out.append(_char_class(pattern[i + 1 : close], lines=lines))
            i = close
        elif char == "{":
            options = []
            while True:
                option, i = _translate(pattern, i + 1, in_braces=True, lines=lines)
                options.append(option)
                if i >= len(pattern):
                    raise GlobError(f"glob {pattern!r}: unclosed '{{'")
                if pattern[i] == "}":
                    break
            out.append(f"(?:{'|'.join(options)})")
        elif char == "}" and not in_braces:
            return "".join(out), i
        else:
            out.append(_literal(char))
        i += 1
    return "".join(out), i


def _char_class(body: str, *, lines: bool) -> str:
    """`[...]` of a glob (`!` negates) as an RE2 class; with `lines`, a negated class excludes newlines."""
    negated = body.startswith("!")
    body = body.removeprefix("!")
    escaped = body.replace("\\", "\\\\").replace("[", "\\[").replace("^", "\\^")
    if negated:
        return f"[^{escaped}{_NL if lines else ''}]"
    return f"[{escaped}]"


def _literal(char: str) -> str:
    return f"\\{char}" if char in _SPECIAL else char
