"""The evidence pack's files: rendered (pure), signed, written, and verified against their manifest.

A pack's digest is the SHA-256 of its `manifest.json`, which lists every other
file's SHA-256; each pack names the digest of the pack before it, so a
series of packs is a chain in which none can be removed or replaced unnoticed.
With a signing key, `statement.dsse.json` carries an in-toto statement over
every file (`aigov.evidence.signing`).
"""

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
from aigov.evidence.signing import PrivateKey, PublicKey, SigningError, open_envelope, sign, statement

EVIDENCE, SOA, REPORT, MANIFEST = "evidence.json", "soa.csv", "report.html", "manifest.json"
SIGNATURE = "statement.dsse.json"
FILES = (EVIDENCE, SOA, REPORT, MANIFEST, SIGNATURE)


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


def predicate(document: Mapping[str, Any]) -> dict[str, Any]:
    """The signed statement's predicate: who exported what, from which cluster, for which period, after which pack."""
    return {
        "generatedAt": document["generatedAt"],
        "generator": document["generator"],
        "exporter": document["exporter"],
        "cluster": document["cluster"],
        "scope": document["scope"],
        "period": document["period"],
        "previousPack": document["previousPack"],
    }


def render(
    collected: Collected, config: Config, expiring_within: timedelta, signing_key: PrivateKey | None = None
) -> dict[str, bytes]:
    """Every file of the pack, by name (with `statement.dsse.json` when a signing key is given)."""
    document = evidence_document(collected, config, expiring_within)
    files = {
        EVIDENCE: (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(),
        SOA: soa_csv(document).encode(),
        REPORT: render_report(document).encode(),
    }
    files[MANIFEST] = manifest(files, document)
    if signing_key is not None:
        envelope = sign(statement(files, predicate(document)), signing_key)
        files[SIGNATURE] = (json.dumps(envelope, indent=2) + "\n").encode()
    return files


def pack_reference(out: Path) -> dict[str, str]:
    """How the next pack names this one: its digest (SHA-256 of `manifest.json`) and generation time.

    `PackError` when the pack does not verify against its own manifest: a chain starts from an intact pack.
    """
    problems = verify(out)
    if problems:
        raise PackError(f"{out} is not an intact pack: " + "; ".join(problems))
    document = json.loads((out / EVIDENCE).read_text())
    return {"digest": f"sha256:{sha256((out / MANIFEST).read_bytes())}", "generatedAt": str(document["generatedAt"])}


class PackError(Exception):
    """A pack cannot be used as asked; the message says why."""


def write(files: Mapping[str, bytes], out: Path) -> list[Path]:
    """Write the files into `out` (created if needed); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def verify(out: Path, public_key: PublicKey | None = None, previous: Path | None = None) -> list[str]:
    """Problems found checking the pack in `out` (empty: intact).

    Every file against the manifest; with `public_key`, the signed statement against the key and every file;
    with `previous`, that this pack names the previous pack's digest.
    """
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
    extra = {p.name for p in out.iterdir()} - {e["path"] for e in listed} - {MANIFEST, SIGNATURE}
    problems += [f"{name}: not in the manifest" for name in sorted(extra)]
    if public_key is not None:
        problems += _signature_problems(out, public_key)
    if previous is not None:
        problems += _chain_problems(out, previous)
    return problems


def _signature_problems(out: Path, public_key: PublicKey) -> list[str]:
    try:
        signed = open_envelope(json.loads((out / SIGNATURE).read_text()), public_key)
    except (OSError, ValueError) as exc:
        return [f"{SIGNATURE}: cannot be read ({exc})"]
    except SigningError as exc:
        return [f"{SIGNATURE}: {exc}"]
    subjects = {s.get("name"): (s.get("digest") or {}).get("sha256") for s in signed.get("subject") or []}
    problems = []
    for name in sorted({p.name for p in out.iterdir()} - {SIGNATURE} | set(subjects)):
        path = out / name
        if name not in subjects:
            problems.append(f"{name}: not in the signed statement")
        elif not path.is_file():
            problems.append(f"{name}: missing (named in the signed statement)")
        elif sha256(path.read_bytes()) != subjects[name]:
            problems.append(f"{name}: sha256 differs from the signed statement")
    return problems


def _chain_problems(out: Path, previous: Path) -> list[str]:
    try:
        expected = pack_reference(previous)
    except (PackError, OSError, ValueError, KeyError) as exc:
        return [f"previous pack: {exc}"]
    try:
        named = json.loads((out / EVIDENCE).read_text()).get("previousPack") or {}
    except (OSError, ValueError) as exc:
        return [f"{EVIDENCE}: cannot be read ({exc})"]
    if named.get("digest") != expected["digest"]:
        return [
            f"{EVIDENCE}: names previous pack {named.get('digest') or 'none'}, not {previous} ({expected['digest']})"
        ]
    return []
