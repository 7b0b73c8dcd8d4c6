"""Reports of `aigov check`: a table (rich on a terminal, plain when piped), JSON, YAML, JUnit XML,
SARIF 2.1.0 (code-scanning UIs), GitHub Actions annotations and an OpenReports `Report`.

Every finding carries the file and line of its object where the input came from a file.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TextIO

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aigov import __version__
from aigov.cli.manifests import STDIN_SOURCE, Manifest
from aigov.policy.decision import UNAVAILABLE, AdmissionDecision, Violation

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
OPENREPORTS_API_VERSION = "openreports.io/v1alpha1"
SOURCE = "aigov"


class Format(StrEnum):
    """Report formats of `aigov check -o`."""

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"
    OPENREPORTS = "openreports"


@dataclass(frozen=True, slots=True)
class Result:
    """One workload and its decision."""

    manifest: Manifest
    namespace: str
    decision: AdmissionDecision


def render(output: Format, results: Sequence[Result], skipped: int, stream: TextIO, now: datetime) -> None:
    """Write the report of `results` in format `output` to `stream`."""
    writers: dict[Format, Callable[[], str]] = {
        Format.JSON: lambda: json.dumps([as_dict(r) for r in results], indent=2) + "\n",
        Format.YAML: lambda: yaml.safe_dump([as_dict(r) for r in results], sort_keys=False),
        Format.JUNIT: lambda: junit(results) + "\n",
        Format.SARIF: lambda: json.dumps(sarif(results), indent=2) + "\n",
        Format.GITHUB: lambda: github(results),
        Format.OPENREPORTS: lambda: yaml.safe_dump(openreport(results, now), sort_keys=False),
    }
    if output in writers:
        stream.write(writers[output]())
    elif stream.isatty():
        _rich(results, skipped, Console(file=stream))
    else:
        stream.write(text(results, skipped))


def _from_file(result: Result) -> bool:
    return result.manifest.source != STDIN_SOURCE


def _findings(result: Result) -> list[tuple[Violation, str]]:
    """Each violation with its level: `error` when it denies, else `warning` (warn or audit mode)."""
    if any(v.code == UNAVAILABLE for v in result.decision.violations):
        return [(v, "error") for v in result.decision.violations]
    level = "warning" if result.decision.allowed else "error"
    return [(v, level) for v in result.decision.violations]


def _subject(result: Result) -> str:
    obj = result.manifest.obj
    return f"{obj.get('kind')} {result.namespace}/{_name(obj)}"


def sarif(results: Sequence[Result]) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one rule per violation code, one result per violation, located in its file."""
    rules: dict[str, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    for r in results:
        for violation, level in _findings(r):
            rules.setdefault(
                violation.code,
                {
                    "id": violation.code,
                    "shortDescription": {"text": violation.code},
                    "properties": {"iso42001Control": violation.control},
                },
            )
            entry: dict[str, Any] = {
                "ruleId": violation.code,
                "level": level,
                "message": {"text": f"{_subject(r)}: {violation.message}"},
                "locations": [{"logicalLocations": [{"name": _subject(r), "kind": "object"}]}],
                "properties": {"iso42001Control": violation.control, "mode": r.decision.mode},
            }
            if _from_file(r):
                entry["locations"][0]["physicalLocation"] = {
                    "artifactLocation": {"uri": r.manifest.source},
                    "region": {"startLine": r.manifest.line},
                }
            entries.append(entry)
    driver = {"name": SOURCE, "version": __version__, "rules": list(rules.values())}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": entries}]}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: Sequence[Result]) -> str:
    """GitHub Actions workflow commands: `::error file=…,line=…,title=CODE::message`, one per violation."""
    lines = []
    for r in results:
        for violation, level in _findings(r):
            props = [f"file={_escape_property(r.manifest.source)}", f"line={r.manifest.line}"] if _from_file(r) else []
            props.append(f"title={_escape_property(f'{violation.code} ({violation.control})')}")
            lines.append(f"::{level} {','.join(props)}::{_escape_data(f'{_subject(r)}: {violation.message}')}")
    denied = sum(not r.decision.allowed for r in results)
    lines.append(f"{len(results)} workload(s): {len(results) - denied} allowed, {denied} denied")
    return "\n".join(lines) + "\n"


def openreport(results: Sequence[Result], now: datetime) -> dict[str, Any]:
    """An OpenReports `Report` (openreports.io/v1alpha1): one result per workload, as the audit would write."""
    entries = []
    summary = {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    for r in results:
        obj, decision = r.manifest.obj, r.decision
        if any(v.code == UNAVAILABLE for v in decision.violations):
            outcome = "error"
        elif not decision.allowed:
            outcome = "fail"
        else:
            outcome = "warn" if decision.violations else "pass"
        summary[outcome] += 1
        properties = {"source": r.manifest.location, "mode": decision.mode}
        properties |= {v.code: v.control for v in decision.violations}
        entries.append(
            {
                "source": SOURCE,
                "policy": "aigov.admission",
                "result": outcome,
                "message": "; ".join(f"{v.code}: {v.message}" for v in decision.violations) or "allowed",
                "timestamp": {"seconds": int(now.timestamp()), "nanos": 0},
                "resources": [
                    {
                        "apiVersion": obj.get("apiVersion"),
                        "kind": obj.get("kind"),
                        "namespace": r.namespace,
                        "name": _name(obj),
                    }
                ],
                "properties": properties,
            }
        )
    return {
        "apiVersion": OPENREPORTS_API_VERSION,
        "kind": "Report",
        "metadata": {"name": "aigov-check", "labels": {"app.kubernetes.io/managed-by": SOURCE}},
        "source": SOURCE,
        "summary": summary,
        "results": entries,
    }


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
