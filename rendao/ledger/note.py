"""C2SP signed notes (Ed25519), tlog checkpoints and tlog-tiles paths.

Standard library and `cryptography` only, no Django: used by the server to sign
and by `rendao.ledger.verify` to check, anywhere.

- signed-note: https://c2sp.org/signed-note — text ending in a newline, a blank
  line, then one line per signature: "— <key name> <base64(key id ‖ signature)>".
  The key id is the first 4 bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)
  for Ed25519 (signature type 0x01). A verifier key is written
  "<name>+<hex key id>+<base64(0x01 ‖ public key)>".
- tlog-checkpoint: https://c2sp.org/tlog-checkpoint — "<origin>\\n<size>\\n<base64 root>\\n"
  then optional extension lines.
- tlog-tiles: https://c2sp.org/tlog-tiles — tiles of height 8 (256 hashes);
  tile indexes in paths are written in groups of three digits, all but the last
  prefixed with "x" (1234067 → x001/x234/067).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # an em dash and a space
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_NAME = re.compile(r"^[^\s+]+$")


class NoteError(ValueError):
    """A note, checkpoint, key or tile path is malformed or a signature is wrong."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """Parse "<name>+<hex key id>+<base64(0x01 ‖ key)>" and check the id matches."""
        parts = text.strip().split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3 or not _NAME.match(parts[0]):
            raise NoteError("a verifier key reads name+keyid+key")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            kid = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise NoteError("the verifier key is not valid hex/base64") from exc
        if len(raw) != 33 or raw[0] != ED25519 or len(kid) != 4:
            raise NoteError("only Ed25519 verifier keys are supported")
        if key_id(name, raw[1:]) != kid:
            raise NoteError("the verifier key's id does not match its key")
        return cls(name=name, key_id=kid, public_key=Ed25519PublicKey.from_public_bytes(raw[1:]))

    def encode(self) -> str:
        raw = bytes([ED25519]) + _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(raw).decode()}"


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key()
        return Verifier(self.name, key_id(self.name, _raw_public(public)), public)

    def signature_line(self, text: str) -> str:
        sig = self.private_key.sign(text.encode())
        blob = base64.b64encode(self.verifier.key_id + sig).decode()
        return f"{SIG_PREFIX}{self.name} {blob}\n"


def sign_note(text: str, signer: Signer) -> str:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    return f"{text}\n{signer.signature_line(text)}"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, data: str) -> Note:
        split = data.rfind("\n\n")
        if split < 0 or not data.endswith("\n"):
            raise NoteError("a signed note is text, a blank line, then signature lines")
        text, sig_block = data[: split + 1], data[split + 2 :]
        sigs = []
        for line in sig_block.splitlines():
            if not line.startswith(SIG_PREFIX):
                raise NoteError("a signature line starts with an em dash")
            name, _, blob = line[len(SIG_PREFIX) :].rpartition(" ")
            try:
                raw = base64.b64decode(blob, validate=True)
            except ValueError as exc:
                raise NoteError("a signature is not valid base64") from exc
            if not _NAME.match(name) or len(raw) < 5:
                raise NoteError("a signature line is malformed")
            sigs.append(Signature(name, raw[:4], raw[4:]))
        if not sigs:
            raise NoteError("the note carries no signature")
        return cls(text=text, signatures=tuple(sigs))

    def verify(self, verifier: Verifier) -> None:
        """Raise NoteError unless `verifier` signed this note."""
        for sig in self.signatures:
            if sig.name == verifier.name and sig.key_id == verifier.key_id:
                try:
                    verifier.public_key.verify(sig.signature, self.text.encode())
                except InvalidSignature as exc:
                    raise NoteError("the signature does not verify") from exc
                return
        raise NoteError(f"the note is not signed by {verifier.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash, one per line")
        origin, size_text, root_text, *rest = lines[:-1]
        if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError("the checkpoint's origin or size is malformed")
        try:
            root = base64.b64decode(root_text, validate=True)
        except ValueError as exc:
            raise NoteError("the checkpoint's root hash is not base64") from exc
        if len(root) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        return cls(origin=origin, size=int(size_text), root=root, extensions=tuple(rest))


# --- tiles -----------------------------------------------------------------------


def tile_index_path(n: int) -> str:
    """1234067 → "x001/x234/067"; 5 → "005"."""
    if n < 0:
        raise NoteError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


_TILE_PATH = re.compile(r"^(?:x\d{3}/)*\d{3}(?:\.p/(\d{1,3}))?$")


def parse_tile_index(path: str) -> tuple[int, int]:
    """ "x001/x234/067.p/12" → (1234067, 12); a full tile has width 256."""
    match = _TILE_PATH.match(path)
    if not match:
        raise NoteError("malformed tile path")
    width = TILE_WIDTH
    if match.group(1) is not None:
        width = int(match.group(1))
        if not 1 <= width < TILE_WIDTH or match.group(1) != str(width):
            raise NoteError("a partial tile has a width of 1 to 255")
        path = path[: path.index(".p/")]
    groups = path.split("/")
    if any(g.startswith("x") for g in groups[-1:]) or not all(g.startswith("x") for g in groups[:-1]):
        raise NoteError("malformed tile path")
    n = 0
    for g in groups:
        n = n * 1000 + int(g.lstrip("x"))
    if len(groups) > 1 and groups[0] == "x000":
        raise NoteError("a tile index has no leading zero groups")
    return n, width
