"""Digests in governance records: the spec an approval approved, and a typed placeholder.

`spec_hash` is the one hash of an AISystem's governance-relevant spec: `aigov approve`
records it in the approval, the policy input builder passes the current one to the Rego
(`input.specHash`, never recomputed there) and the operator's phase compares with it, so an
approval stops counting when what it approved changes.

`placeholder` is the check `aigov assess` runs on a `--sha256` typed by hand; the
AISystem warnings webhook runs the same rules in Rego (policies/aigov/admission/
aisystem.rego, `_placeholder`), and tests/integration/test_policy.py holds both to one table.
"""

from __future__ import annotations

import hashlib
import itertools
import json

from aigov.core.model import AISystemSpec

HEX = "0123456789abcdef"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PERIOD = 8
"""A digest that repeats a pattern of up to this many characters (`0000…`, `abab…`, `deadbeef…`) was typed."""


def placeholder(sha256: str) -> str | None:
    """Why the 64-hex-digit `sha256` looks typed rather than computed, or None when it does not."""
    digest = sha256.lower()
    if digest == EMPTY_SHA256:
        return "the SHA-256 of an empty document"
    if len(set(digest)) == 1:
        return "one character repeated"
    if any(digest == (digest[:period] * 64)[:64] for period in range(2, MAX_PERIOD + 1)):
        return "a short pattern repeated"
    steps = {(HEX.find(b) - HEX.find(a)) % 16 for a, b in itertools.pairwise(digest)}
    if steps in ({1}, {15}):
        return "a sequence of hex digits"
    return None


def spec_hash(spec: AISystemSpec) -> str:
    """SHA-256 (hex) of what an approval approves: purpose, risk tier, models, images, drift checks, classification.

    Canonical JSON of those fields as the API server stores them (defaults filled in, images as a set), so
    a change of any of them, and of nothing else (owner, documentation, controls...), changes the hash.
    """
    governed = {
        "purpose": spec.purpose,
        "riskTier": spec.risk_tier,
        "models": [model.to_dict() for model in spec.models],
        "images": sorted(set(spec.images)),
        "checks": [check.to_dict() for check in spec.monitoring.checks] if spec.monitoring else [],
        "classification": spec.classification.to_dict() if spec.classification else None,
    }
    return hashlib.sha256(json.dumps(governed, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
