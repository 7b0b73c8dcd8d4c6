"""The evidence pack's files: rendered (pure), written, and verified against their manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from aigov.core.config import Config
from aigov.evidence.collected import Collected
from aigov.evidence.document import evidence_document, soa_csv
from aigov.evidence.report import render_report

EVIDENCE, SOA, REPORT, MANIFEST = "evidence.json", "soa.csv", "report.html", "manifest.json"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def manifest(files: Mapping[str, bytes], document: Mapping[str, Any]) -> bytes:
    """`manifest.json`: every file with its size and SHA-256."""
    entries = [{"path": name, "bytes": len(data), "sha256": sha256(data)} for name, data in sorted(files.items())]
    body = {
        "schema": document["schema"],
        "generatedAt": document["generatedAt"],
        "generator": document["generator"],
        "algorithm": "sha256",
        "files": entries,
    }
    return (json.dumps(body, indent=2) + "\n").encode()


def render(collected: Collected, config: Config, expiring_within: timedelta) -> dict[str, bytes]:
    """Every file of the pack, by name."""
    document = evidence_document(collected, config, expiring_within)
    files = {
        EVIDENCE: (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(),
        SOA: soa_csv(document).encode(),
        REPORT: render_report(document).encode(),
    }
    return {**files, MANIFEST: manifest(files, document)}


def write(files: Mapping[str, bytes], out: Path) -> list[Path]:
    """Write the files into `out` (created if needed); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def verify(out: Path) -> list[str]:
    """Problems found checking the files in `out` against its manifest (empty: intact)."""
    try:
        listed = json.loads((out / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST}: cannot be read ({exc})"]
    problems = []
    for entry in listed:
        path = out / entry["path"]
        if path.name != entry["path"] or not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif sha256(path.read_bytes()) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest")
    extra = {p.name for p in out.iterdir()} - {e["path"] for e in listed} - {MANIFEST}
    problems += [f"{name}: not in the manifest" for name in sorted(extra)]
    return problems
