"""Encryption of personal fields (AES-256-GCM) and blind indexes (HMAC-SHA256).

A stored value reads `v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`: the key id
sits beside the ciphertext so keys can be rotated. The associated data binds a
ciphertext to its column ("app.model.field"), so a value copied into another
column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rendao.privacy.keyring import keyring

VERSION = "v1"
NONCE_BYTES = 12


class VaultError(ValueError):
    """A stored value cannot be decrypted: unknown key id, tampering, or garbage."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(plaintext: str, *, aad: str) -> str:
    ring = keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(nonce, plaintext.encode(), aad.encode())
    return f"{VERSION}.{ring.current_id}.{_b64(nonce + sealed)}"


def key_id_of(token: str) -> str | None:
    parts = token.split(".", 2)
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def is_sealed(value: str) -> bool:
    return key_id_of(value) is not None


def decrypt(token: str, *, aad: str) -> str:
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise VaultError("not a vault value")
    _, kid, body = parts
    key = keyring().keys.get(kid)
    if key is None:
        raise VaultError(f"unknown vault key id {kid!r}")
    try:
        raw = _unb64(body)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise VaultError("vault value does not decrypt (tampered or wrong column)") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC of a normalised value, separated by purpose (mobile, id_number, …)."""
    message = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(keyring().index_key, message, hashlib.sha256).hexdigest()
