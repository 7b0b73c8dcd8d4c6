"""Glob lists as one RE2 regular expression each, for the policies' bundle data.

Rego's `glob.match(pattern, ["/"], value)` costs a builtin call per pattern and
value (48 image patterns, several candidates per image); OPA does not cache its
results between queries. One `regex.match` of the alternation of all patterns
does the same work in one call (compiled once and cached by OPA): about 8-10x
less evaluation time (docs/benchmarks.md). The translation follows OPA's glob
syntax with `/` as the delimiter: `*` any run without `/`, `**` any run, `?`
one character but `/`, `[...]` / `[!...]` a (negated) class, `{a,b}`
alternatives, `\\` escapes the next character.
tests/integration/test_policy_globs.py checks it against OPA's own `glob.match`.
"""

from __future__ import annotations

from collections.abc import Iterable

NEVER = r"[^\s\S]"
"""Matches nothing: the regex of an empty pattern list."""
_SPECIAL = frozenset("\\.+*?()|[]{}^$")
"""RE2's metacharacters outside a class (Go's regexp refuses escapes of anything but punctuation)."""


class GlobError(ValueError):
    """A glob pattern that cannot be translated (unbalanced brackets or braces)."""


def glob_regex(pattern: str) -> str:
    """The unanchored RE2 regex matching what `glob.match(pattern, ["/"], value)` matches."""
    regex, end = _translate(pattern, 0, in_braces=False)
    if end != len(pattern):
        raise GlobError(f"glob {pattern!r}: unbalanced '}}' at {end}")
    return regex


def any_of(patterns: Iterable[str]) -> str:
    """One anchored regex matching a value exactly when one of `patterns` does (never, for none)."""
    parts = [glob_regex(p) for p in patterns]
    return f"(?s)^(?:{'|'.join(parts)})$" if parts else NEVER


def _translate(pattern: str, start: int, *, in_braces: bool) -> tuple[str, int]:
    """Translate from `start` up to the end, or (inside braces) up to an unescaped `,` or `}`."""
    out: list[str] = []
    i = start
    while i < len(pattern):
        char = pattern[i]
        if in_braces and char in ",}":
            return "".join(out), i
        if char == "*":
            double = pattern.startswith("**", i)
            out.append(".*" if double else "[^/]*")
            i += 2 if double else 1
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(_literal(pattern[i]))
        elif char == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                raise GlobError(f"glob {pattern!r}: unclosed '[' at {i}")
            out.append(_char_class(pattern[i + 1 : close]))
            i = close
        elif char == "{":
            options = []
            while True:
                option, i = _translate(pattern, i + 1, in_braces=True)
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


def _char_class(body: str) -> str:
    """`[...]` of a glob (`!` negates) as an RE2 class."""
    negated = body.startswith("!")
    body = body.removeprefix("!")
    escaped = body.replace("\\", "\\\\").replace("[", "\\[").replace("^", "\\^")
    return f"[{'^' if negated else ''}{escaped}]"


def _literal(char: str) -> str:
    return f"\\{char}" if char in _SPECIAL else char
