"""Signed, chained evidence packs: DSSE envelopes over an in-toto statement, checked file by file."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from aigov.core.config import Config
from aigov.evidence.pack import EVIDENCE, MANIFEST, SIGNATURE, SOA, PackError, pack_reference, render, verify, write
from aigov.evidence.signing import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    PrivateKey,
    SigningError,
    load_private_key,
    load_public_key,
    open_envelope,
    pae,
)
from tests.unit.test_evidence import _collected

EXPORTER = {"username": "ivan", "groups": ["aigov:auditors", "system:authenticated"]}


def write_keypair(key: PrivateKey | rsa.RSAPrivateKey, tmp_path: Path, name: str) -> tuple[Path, Path]:
    """`name`.key and `name`.pub (PEM) in `tmp_path`."""
    private, public = tmp_path / f"{name}.key", tmp_path / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _pack(
    tmp_path: Path, name: str, key: PrivateKey | None, previous: Path | None = None, uid: str = "6f1c0d2e-kube-system"
) -> Path:
    collected = replace(
        _collected(),
        exporter=EXPORTER,
        cluster_uid=uid,
        previous_pack=pack_reference(previous) if previous else None,
    )
    out = tmp_path / name
    write(render(collected, Config(), timedelta(days=30), key), out)
    return out


def test_pae_is_the_dsse_v1_encoding() -> None:
    # The example of the DSSE protocol document.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize(
    "key", [ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())], ids=["ed25519", "p256"]
)
def test_sign_and_verify_round_trip(tmp_path: Path, key: PrivateKey) -> None:
    private, public = write_keypair(key, tmp_path, "pack")
    out = _pack(tmp_path, "pack", load_private_key(private))
    assert sorted(p.name for p in out.iterdir()) == sorted([EVIDENCE, SOA, "report.html", MANIFEST, SIGNATURE])
    assert verify(out, load_public_key(public)) == []
    envelope = json.loads((out / SIGNATURE).read_text())
    assert envelope["payloadType"] == PAYLOAD_TYPE
    signed = open_envelope(envelope, load_public_key(public))
    assert signed["predicateType"] == PREDICATE_TYPE
    assert [s["name"] for s in signed["subject"]] == [EVIDENCE, MANIFEST, "report.html", SOA]
    predicate = signed["predicate"]
    assert predicate["exporter"] == EXPORTER
    assert predicate["cluster"] == {"server": "https://127.0.0.1:6443", "uid": "6f1c0d2e-kube-system"}
    assert predicate["period"] == json.loads((out / EVIDENCE).read_text())["period"]
    assert predicate["previousPack"] is None


def test_a_changed_file_fails(tmp_path: Path) -> None:
    private, public = write_keypair(ed25519.Ed25519PrivateKey.generate(), tmp_path, "k")
    out = _pack(tmp_path, "pack", load_private_key(private))
    # Rewrite a file and its manifest entry consistently: only the signature can tell.
    text = (out / SOA).read_text().replace("partial", "implemented")
    (out / SOA).write_text(text)
    manifest = json.loads((out / MANIFEST).read_text())
    for entry in manifest["files"]:
        if entry["path"] == SOA:
            entry["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert verify(out) == []
    assert verify(out, load_public_key(public)) == [
        f"{MANIFEST}: sha256 differs from the signed statement",
        f"{SOA}: sha256 differs from the signed statement",
    ]
    (out / "extra.txt").write_text("x")
    assert "extra.txt: not in the signed statement" in verify(out, load_public_key(public))


def test_a_changed_statement_fails(tmp_path: Path) -> None:
    private, public = write_keypair(ec.generate_private_key(ec.SECP256R1()), tmp_path, "k")
    out = _pack(tmp_path, "pack", load_private_key(private))
    envelope = json.loads((out / SIGNATURE).read_text())
    body = json.loads(base64.b64decode(envelope["payload"]))
    body["predicate"]["exporter"]["username"] = "mallory"
    envelope["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    (out / SIGNATURE).write_text(json.dumps(envelope))
    [problem] = verify(out, load_public_key(public))
    assert problem.startswith(f"{SIGNATURE}: no signature verifies with the public key")


def test_a_wrong_key_fails_and_unusable_keys_are_refused(tmp_path: Path) -> None:
    private, _ = write_keypair(ed25519.Ed25519PrivateKey.generate(), tmp_path, "right")
    _, other = write_keypair(ed25519.Ed25519PrivateKey.generate(), tmp_path, "wrong")
    out = _pack(tmp_path, "pack", load_private_key(private))
    [problem] = verify(out, load_public_key(other))
    assert "no signature verifies" in problem
    unsigned = _pack(tmp_path, "unsigned", None)
    assert verify(unsigned) == []
    assert verify(unsigned, load_public_key(other))[0].startswith(f"{SIGNATURE}: cannot be read")
    rsa_key, _ = write_keypair(rsa.generate_private_key(public_exponent=65537, key_size=2048), tmp_path, "rsa")
    with pytest.raises(SigningError, match="Ed25519 or ECDSA P-256"):
        load_private_key(rsa_key)
    p384, _ = write_keypair(ec.generate_private_key(ec.SECP384R1()), tmp_path, "p384")
    with pytest.raises(SigningError, match="P-256"):
        load_private_key(p384)
    with pytest.raises(SigningError, match="not an unencrypted PEM private key"):
        load_private_key(other)


def test_chain_names_the_previous_pack(tmp_path: Path) -> None:
    private, public = write_keypair(ed25519.Ed25519PrivateKey.generate(), tmp_path, "k")
    key = load_private_key(private)
    first = _pack(tmp_path, "first", key)
    second = _pack(tmp_path, "second", key, previous=first)
    reference = pack_reference(first)
    assert reference["digest"].startswith("sha256:")
    assert json.loads((second / EVIDENCE).read_text())["previousPack"] == reference
    signed = open_envelope(json.loads((second / SIGNATURE).read_text()), load_public_key(public))
    assert signed["predicate"]["previousPack"] == reference
    assert verify(second, load_public_key(public), previous=first) == []
    # Another pack in its place breaks the chain ...
    other = _pack(tmp_path, "other", key, uid="another-cluster")
    [problem] = verify(second, previous=other)
    assert problem.startswith(f"{EVIDENCE}: names previous pack {reference['digest']}, not ")
    # ... and so does a previous pack changed after the fact; nor does a broken pack start a chain.
    (first / SOA).write_text("changed")
    assert verify(second, previous=first) == [f"previous pack: {first} is not an intact pack: {SOA}: sha256 differs "
                                              "from the manifest"]  # fmt: skip
    with pytest.raises(PackError, match="not an intact pack"):
        pack_reference(first)
