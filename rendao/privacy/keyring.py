"""The vault's keys: AES-256-GCM data keys by id, and the blind-index key.

Data keys come from RENDAO_VAULT_KEYS ("kid:base64key,kid:base64key", the first
encrypts, all decrypt) or from the file named by RENDAO_VAULT_KEYS_FILE (one
"kid base64key" per line, first line encrypts). Outside production, when neither
is set, a key ring is generated once into DATA_DIR/vault_keys (mode 0600) so the
demo runs with no set-up; production refuses to start without configured keys
(rendao.privacy.checks).

Rotating: put a new key first, keep the old ones, run `rendao manage
vault_rotate`; when it reports nothing left under an old key id, drop that key.

The blind-index key (RENDAO_VAULT_INDEX_KEY, base64 of 32 bytes) keys the HMAC
that makes exact lookups possible without storing a plain hash — a plain hash of
a phone or ID number is brute-forced in minutes.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict[str, bytes]
    index_key: bytes


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(f"{what} must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def _parse_pairs(pairs: list[tuple[str, str]], source: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    for kid, encoded in pairs:
        kid = kid.strip()
        if not kid or not kid.isalnum() or len(kid) > 16:
            raise ImproperlyConfigured(f"{source}: key id {kid!r} must be 1–16 letters or digits")
        if kid in keys:
            raise ImproperlyConfigured(f"{source}: key id {kid!r} appears twice")
        keys[kid] = _b64decode(encoded, f"{source} key {kid!r}")
    if not keys:
        raise ImproperlyConfigured(f"{source} holds no key")
    return pairs[0][0].strip(), keys


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def _generated_file(path: Path) -> str:
    """A development key ring, created on first use and kept."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(f"index {new_key()}\nk1 {new_key()}\n")
    return path.read_text()


def _file_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            kid, _, encoded = line.partition(" ")
            pairs.append((kid, encoded))
    return pairs


@lru_cache(maxsize=1)
def keyring() -> KeyRing:
    inline: str = settings.VAULT_KEYS
    path: str = settings.VAULT_KEYS_FILE
    index_key_text: str = settings.VAULT_INDEX_KEY
    if inline:
        pairs = [tuple(item.split(":", 1)) for item in inline.split(",") if item.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ImproperlyConfigured("RENDAO_VAULT_KEYS must read kid:base64key,kid:base64key")
        current, keys = _parse_pairs([(p[0], p[1]) for p in pairs], "RENDAO_VAULT_KEYS")
    else:
        if path:
            text = Path(path).read_text()
            source = "RENDAO_VAULT_KEYS_FILE"
        elif settings.RENDAO_ENV == "production":
            raise ImproperlyConfigured("Set RENDAO_VAULT_KEYS or RENDAO_VAULT_KEYS_FILE in production")
        else:
            text = _generated_file(Path(settings.DATA_DIR) / "vault_keys")
            source = "DATA_DIR/vault_keys"
        pairs_f = _file_pairs(text)
        # A generated file carries its index key as the line "index <key>".
        file_index = dict(pairs_f).get("index")
        pairs_f = [p for p in pairs_f if p[0] != "index"]
        current, keys = _parse_pairs(pairs_f, source)
        if not index_key_text and file_index:
            index_key_text = file_index
    if not index_key_text:
        raise ImproperlyConfigured("Set RENDAO_VAULT_INDEX_KEY (base64 of 32 random bytes)")
    index_key = _b64decode(index_key_text, "RENDAO_VAULT_INDEX_KEY")
    return KeyRing(current_id=current, keys=keys, index_key=index_key)


def reset_keyring_cache() -> None:
    """For tests and the rotation command after settings change."""
    keyring.cache_clear()
