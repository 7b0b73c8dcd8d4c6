"""Reports of `aigov check`: a table (rich on a terminal, plain when piped), JSON, JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aigov.cli.manifests import Manifest
from aigov.policy.decision import UNAVAILABLE, AdmissionDecision


@dataclass(frozen=True, slots=True)
class Result:
    """One workload and its decision."""

    manifest: Manifest
    namespace: str
    decision: AdmissionDecision


def render(output: str, results: Sequence[Result], skipped: int, stream: TextIO) -> None:
    """Write the report of `results` in format `output` (text, json or junit) to `stream`."""
    if output == "json":
        stream.write(json.dumps([as_dict(r) for r in results], indent=2) + "\n")
    elif output == "junit":
        stream.write(junit(results) + "\n")
    elif stream.isatty():
        _rich(results, skipped, Console(file=stream))
    else:
        stream.write(text(results, skipped))


def as_dict(result: Result) -> dict[str, Any]:
    """One result as the JSON report lists it."""
    obj, decision = result.manifest.obj, result.decision
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "namespace": result.namespace,
        "name": _name(obj),
        "allowed": decision.allowed,
        "mode": decision.mode,
        "violations": [v.model_dump() for v in decision.violations],
        "warnings": list(decision.warnings),
        "source": result.manifest.location,
    }


def _name(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("name") or f"{metadata.get('generateName', '')}*")


def _verdict(result: Result) -> str:
    if not result.decision.allowed:
        return "denied"
    return f"allowed ({result.decision.mode})" if result.decision.violations else "allowed"


def _summary(results: Sequence[Result], skipped: int) -> str:
    denied = sum(not r.decision.allowed for r in results)
    line = f"{len(results)} workload(s): {len(results) - denied} allowed, {denied} denied"
    return line + (f"; {skipped} other object(s) not reviewed" if skipped else "")


def text(results: Sequence[Result], skipped: int) -> str:
    """The plain report: one line per workload, its violations and warnings indented below."""
    lines: list[str] = []
    for r in results:
        obj = r.manifest.obj
        lines.append(f"{_verdict(r).upper():<16} {obj.get('kind')} {r.namespace}/{_name(obj)}  ({r.manifest.location})")
        lines += [f"  {v.code} [{v.control}] {v.message}" for v in r.decision.violations]
        lines += [f"  warning: {w}" for w in r.decision.warnings]
    lines.append(_summary(results, skipped))
    return "\n".join(lines) + "\n"


def _rich(results: Sequence[Result], skipped: int, console: Console) -> None:
    table = Table(show_lines=True)
    for column in ("Workload", "Result", "Violations and warnings"):
        table.add_column(column, overflow="fold")
    for r in results:
        obj = r.manifest.obj
        style = "red" if not r.decision.allowed else ("yellow" if r.decision.violations else "green")
        details = [f"[bold]{v.code}[/bold] ({v.control}): {escape(v.message)}" for v in r.decision.violations]
        details += [f"[yellow]warning:[/yellow] {escape(w)}" for w in r.decision.warnings]
        workload = (
            f"{obj.get('kind')} {escape(r.namespace)}/{escape(_name(obj))}\n[dim]{escape(r.manifest.location)}[/dim]"
        )
        table.add_row(workload, f"[{style}]{_verdict(r)}[/{style}]", "\n".join(details) or "-")
    console.print(table)
    console.print(_summary(results, skipped), highlight=False)


def junit(results: Sequence[Result]) -> str:
    """JUnit XML: one test case per workload; denials are failures, no decision is an error."""
    suite = ET.Element("testsuite", name="aigov check", tests=str(len(results)))
    failures = errors = 0
    for r in results:
        obj = r.manifest.obj
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{r.namespace}.{obj.get('kind')}",
            name=_name(obj),
            file=r.manifest.source,
            line=str(r.manifest.line),
        )
        codes = ", ".join(v.code for v in r.decision.violations)
        body = "\n".join(f"{v.code} [{v.control}] {v.message}" for v in r.decision.violations)
        if any(v.code == UNAVAILABLE for v in r.decision.violations):
            errors += 1
            ET.SubElement(case, "error", message=codes, type=UNAVAILABLE).text = body
        elif not r.decision.allowed:
            failures += 1
            ET.SubElement(case, "failure", message=codes, type="denied").text = body
        output = [f"{v.code} [{v.control}] {v.message}" for v in r.decision.violations if r.decision.allowed]
        output += [f"warning: {w}" for w in r.decision.warnings]
        if output:
            ET.SubElement(case, "system-out").text = "\n".join(output)
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites", name="aigov check", tests=str(len(results)))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
