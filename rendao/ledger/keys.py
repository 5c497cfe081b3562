"""The checkpoint signing key: its file format, generation and loading.

The file holds one line in the format of Go's golang.org/x/mod/sumdb/note signer
keys, "PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ Ed25519 seed)>", so the
same key works with the standard tlog tools. The key's name is the log origin.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from rendao.ledger.note import ED25519, NoteError, Signer, Verifier

_PREFIX = "PRIVATE+KEY+"
# C2SP tlog-cosignature: the signature type of a witness's cosignature key.
COSIGNATURE_V1 = 0x04


def ledger_origin() -> str:
    """The checkpoint origin: configured, or the site's host + "/ledger"."""
    if settings.LEDGER_ORIGIN:
        return str(settings.LEDGER_ORIGIN)
    host = urlsplit(settings.SITE_URL).netloc or "localhost"
    return f"{host}/ledger"


def encode_signer(signer: Signer) -> str:
    seed = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    kid = signer.verifier.key_id.hex()
    return f"{_PREFIX}{signer.name}+{kid}+{base64.b64encode(bytes([ED25519]) + seed).decode()}"


def parse_signer(text: str) -> Signer:
    text = text.strip()
    if not text.startswith(_PREFIX):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    parts = text[len(_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise NoteError("a signer key reads PRIVATE+KEY+name+keyid+key")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        kid = bytes.fromhex(hex_id)
    except ValueError as exc:
        raise NoteError("the signer key is not valid hex/base64") from exc
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("only Ed25519 signer keys are supported")
    signer = Signer(name=name, private_key=Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.verifier.key_id != kid:
        raise NoteError("the signer key's id does not match its key")
    return signer


def write_new_key(path: Path, name: str) -> Signer:
    """Create a key file (mode 0600); refuses to overwrite one."""
    signer = Signer(name=name, private_key=Ed25519PrivateKey.generate())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(encode_signer(signer) + "\n")
    return signer


@functools.cache
def ledger_signer() -> Signer:
    """The signer from RENDAO_LEDGER_KEY_FILE; outside production, created on first use.

    Raises ImproperlyConfigured when the key is missing in production, unreadable,
    or named for another origin (a signature under the wrong name verifies nowhere).
    """
    path = Path(settings.LEDGER_KEY_FILE)
    if not path.exists():
        if settings.RENDAO_ENV == "production":
            raise ImproperlyConfigured(f"the ledger key file {path} does not exist")
        try:
            return write_new_key(path, ledger_origin())
        except FileExistsError:
            pass  # another process made it just now
    try:
        signer = parse_signer(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        raise ImproperlyConfigured(f"the ledger key file {path} is not usable: {exc}") from exc
    if signer.name != ledger_origin():
        raise ImproperlyConfigured(
            f"the ledger key is named {signer.name!r} but the log origin is {ledger_origin()!r}"
        )
    return signer


def ledger_verifier() -> Verifier:
    return ledger_signer().verifier


@functools.cache
def witness_verifiers() -> dict[str, tuple[bytes, bytes]]:
    """Configured witnesses by name: (key id, raw Ed25519 public key) of their cosignature keys.

    C2SP tlog-cosignature keys are written like note verifier keys with the
    signature type 0x04: "name+keyid+base64(0x04 ‖ key)".
    """
    out: dict[str, tuple[bytes, bytes]] = {}
    for text in settings.LEDGER_WITNESSES:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise ImproperlyConfigured("a witness key reads name+keyid+key")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            kid = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise ImproperlyConfigured(f"the witness key of {name} is not valid hex/base64") from exc
        if len(raw) != 33 or raw[0] != COSIGNATURE_V1:
            raise ImproperlyConfigured(f"the witness key of {name} is not an Ed25519 key")
        if cosignature_key_id(name, raw[1:]) != kid:
            raise ImproperlyConfigured(f"the witness key of {name} does not match its id")
        out[name] = (kid, raw[1:])
    return out


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()[:4]


def reset_key_cache() -> None:
    ledger_signer.cache_clear()
    witness_verifiers.cache_clear()
