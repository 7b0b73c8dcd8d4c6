"""The pack's signature: an in-toto Statement v1 over its files in a DSSE envelope.

The statement's subjects are the pack's files with their SHA-256; its predicate
says who exported the pack from which cluster, for which period, and which pack
came before it (the chain). The envelope is signed over DSSE's pre-authentication
encoding (PAE) with an Ed25519 or ECDSA P-256 (SHA-256, DER signature) key the
operator holds as a PEM file; verification needs only the public key.
Specifications: https://github.com/secure-systems-lab/dsse (protocol v1),
https://github.com/in-toto/attestation (Statement v1).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://aigov.io/evidence-pack/v1"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class SigningError(Exception):
    """A key cannot be used, or an envelope does not verify; the message says which and why."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement(files: Mapping[str, bytes], predicate: Mapping[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1: every file as a subject with its SHA-256, and the pack's predicate."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": n, "digest": {"sha256": hashlib.sha256(d).hexdigest()}} for n, d in sorted(files.items())],
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }


def _checked_curve(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, path: Path) -> None:
    if not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(f"{path}: an ECDSA key must be on P-256 (secp256r1), not {key.curve.name}")


def load_private_key(path: Path) -> PrivateKey:
    """An unencrypted Ed25519 or ECDSA P-256 private key from a PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        _checked_curve(key, path)
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise SigningError(f"{path}: use an Ed25519 or ECDSA P-256 key (openssl genpkey -algorithm ed25519)")


def load_public_key(path: Path) -> PublicKey:
    """An Ed25519 or ECDSA P-256 public key from a PEM file."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"{path}: not a PEM public key ({exc})") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        _checked_curve(key, path)
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise SigningError(f"{path}: use an Ed25519 or ECDSA P-256 public key")


def keyid(key: PublicKey) -> str:
    """The key's id: SHA-256 of its DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign(body: Mapping[str, Any], key: PrivateKey) -> dict[str, Any]:
    """A DSSE envelope carrying `body` (JSON), signed with `key`."""
    payload = json.dumps(body, indent=2, sort_keys=True).encode()
    message = pae(PAYLOAD_TYPE, payload)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid(key.public_key()), "sig": base64.b64encode(signature).decode()}],
    }


def _verified(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def open_envelope(envelope: Mapping[str, Any], key: PublicKey) -> dict[str, Any]:
    """The statement of an envelope that `key` signed; `SigningError` otherwise."""
    try:
        payload_type = str(envelope["payloadType"])
        payload = base64.b64decode(str(envelope["payload"]), validate=True)
        signatures = [base64.b64decode(str(s["sig"]), validate=True) for s in envelope["signatures"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SigningError(f"not a DSSE envelope ({exc})") from exc
    if payload_type != PAYLOAD_TYPE:
        raise SigningError(f"payloadType is {payload_type!r}, not {PAYLOAD_TYPE}")
    message = pae(payload_type, payload)
    if not any(_verified(key, s, message) for s in signatures):
        raise SigningError(f"no signature verifies with the public key (keyid {keyid(key)})")
    try:
        body: dict[str, Any] = json.loads(payload)
    except ValueError as exc:
        raise SigningError(f"the signed payload is not JSON ({exc})") from exc
    if body.get("_type") != STATEMENT_TYPE or body.get("predicateType") != PREDICATE_TYPE:
        raise SigningError(f"the payload is not an in-toto statement of type {PREDICATE_TYPE}")
    return body
