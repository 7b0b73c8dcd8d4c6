"""The Jinja environment the report and its charts render with.

Templates ship as package data in `aigov/evidence/templates/`. Every
expression is HTML-escaped (autoescape), and a name the view does not define
is an error rather than an empty string (StrictUndefined).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    """The one environment, built on first use."""
    return Environment(
        loader=PackageLoader("aigov.evidence", "templates"),
        autoescape=select_autoescape(("html", "j2"), default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """A whole template rendered with `context`."""
    return environment().get_template(template).render(**context)


def render_macro(template: str, macro: str, *args: Any) -> str:
    """One macro of a template called with `args`."""
    return str(getattr(environment().get_template(template).module, macro)(*args))
