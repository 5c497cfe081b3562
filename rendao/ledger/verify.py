"""Verify rendao's transparency log from outside, trusting nothing the server says.

Standard library + `cryptography` + the two pure modules next to this one
(`merkle`, `note`), and no Django: a journalist can copy these three files and run

    python -m rendao.ledger.verify https://rendao.example.org --key 'name+id+key'

or use `rendao verify`. The verifier key must come from somewhere other than the
server being checked (a printed notice, the society's annual report, a witness):
a key fetched from the same server would let that server sign any history.

What is checked:
(a) the latest checkpoint carries a valid Ed25519 signature by the given key;
(b) the whole tree recomputed from the served entry bundles has the
    checkpoint's root (and the served hash tiles agree with it);
(c) a previously verified checkpoint (the --state file) is a prefix of the new
    one — by recomputing the old root when (b) ran, else by a consistency proof;
(d) a receipt's entry (index + exact leaf bytes) is included in the checkpoint.
Every failure raises `VerificationError` with a message a person can act on.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rendao.ledger import merkle, note

Fetch = Callable[[str], bytes]

# The largest body we accept: a full entry bundle is 256 entries of at most 64 KiB.
MAX_RESPONSE_BYTES = 256 * (2 + 0xFFFF) + 1024
CHECKPOINT_PATH = "/ledger/checkpoint"
KEY_PATH = "/ledger/key"


class VerificationError(Exception):
    """The log, a proof or a response does not check out; the message says which."""


def url_fetcher(base_url: str, *, timeout: float = 15.0) -> Fetch:
    """fetch(path) over HTTP(S) against the site's base URL (with or without /ledger)."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise VerificationError(f"not an http(s) URL: {base_url!r}")
    base = base_url.rstrip("/")
    if base.endswith("/ledger"):
        base = base[: -len("/ledger")]

    def fetch(path: str) -> bytes:
        url = base + path
        request = urllib.request.Request(url, headers={"User-Agent": "rendao-verify/1"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
                body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise VerificationError(f"{url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise VerificationError(f"{url}: cannot fetch ({exc})") from exc
        if len(body) > MAX_RESPONSE_BYTES:
            raise VerificationError(f"{url}: response too large")
        return body

    return fetch


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose signature by the log's key has been checked."""

    note_text: str
    checkpoint: note.Checkpoint

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root


def verify_checkpoint_note(text: str, verifier: note.Verifier) -> VerifiedCheckpoint:
    """Parse a signed checkpoint note and check the log's signature on it."""
    try:
        parsed = note.Note.parse(text)
    except note.NoteError as exc:
        raise VerificationError(f"malformed checkpoint note: {exc}") from exc
    try:
        parsed.verify(verifier)
    except note.NoteError as exc:
        raise VerificationError(f"bad checkpoint signature: {exc}") from exc
    try:
        checkpoint = note.Checkpoint.parse(parsed.text)
    except note.NoteError as exc:
        raise VerificationError(f"malformed checkpoint: {exc}") from exc
    return VerifiedCheckpoint(note_text=text, checkpoint=checkpoint)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """tlog-tiles entry bundle: each entry as a big-endian uint16 length, then the bytes."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise VerificationError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise VerificationError("entry bundle ends inside an entry")
        entries.append(data[pos : pos + length])
        pos += length
    return entries


def _tile_path(kind: str, n: int, width: int) -> str:
    suffix = "" if width == note.TILE_WIDTH else f".p/{width}"
    return f"/ledger/tile/{kind}/{note.tile_index_path(n)}{suffix}"


def _tiles(count: int) -> Iterator[tuple[int, int]]:
    """(tile index, width) of the tiles that hold `count` items, partial last."""
    full, rest = divmod(count, note.TILE_WIDTH)
    for n in range(full):
        yield n, note.TILE_WIDTH
    if rest:
        yield full, rest


def _proof_hashes(body: bytes, what: str) -> list[bytes]:
    """The proof from the JSON API: {"hashes": [base64, …]} (also accepts "proof")."""
    try:
        obj = json.loads(body)
    except ValueError as exc:
        raise VerificationError(f"{what}: the response is not JSON") from exc
    raw = None
    if isinstance(obj, dict):
        raw = obj.get("hashes", obj.get("proof"))
    if not isinstance(raw, list) or not all(isinstance(h, str) for h in raw):
        raise VerificationError(f"{what}: the response carries no list of base64 hashes")
    out: list[bytes] = []
    for h in raw:
        try:
            decoded = base64.b64decode(h, validate=True)
        except ValueError as exc:
            raise VerificationError(f"{what}: a proof hash is not base64") from exc
        if len(decoded) != merkle.HASH_SIZE:
            raise VerificationError(f"{what}: a proof hash is not 32 bytes")
        out.append(decoded)
    return out


class Client:
    """Checks a log through `fetch(path) -> bytes`; paths start with "/ledger/" or "/api/"."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch

    @classmethod
    def for_url(cls, base_url: str, *, timeout: float = 15.0) -> Client:
        return cls(url_fetcher(base_url, timeout=timeout))

    def served_key(self) -> str:
        """The key the server publishes — only to compare with the one you trust."""
        return self.fetch(KEY_PATH).decode("utf-8", "replace").strip()

    def latest_checkpoint(self, verifier: note.Verifier) -> VerifiedCheckpoint:
        try:
            text = self.fetch(CHECKPOINT_PATH).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VerificationError("the checkpoint is not UTF-8 text") from exc
        return verify_checkpoint_note(text, verifier)

    def entries(self, size: int) -> Iterator[bytes]:
        """The first `size` entries, read bundle by bundle."""
        for n, width in _tiles(size):
            bundle = parse_entry_bundle(self.fetch(_tile_path("entries", n, width)))
            if len(bundle) != width:
                raise VerificationError(f"entry bundle {n} holds {len(bundle)} entries, expected {width}")
            yield from bundle

    def leaf_hashes(self, size: int) -> list[bytes]:
        return [merkle.leaf_hash(e) for e in self.entries(size)]

    def verify_tree(self, cp: VerifiedCheckpoint, *, check_tiles: bool = True) -> list[bytes]:
        """Recompute the whole tree from the entries; return the leaf hashes."""
        hashes = self.leaf_hashes(cp.size)
        if merkle.root_from_leaf_hashes(hashes) != cp.root:
            raise VerificationError(
                f"wrong root: the {cp.size} served entries do not hash to checkpoint {cp.size}'s root"
            )
        if check_tiles:
            self.verify_hash_tiles(hashes)
        return hashes

    def verify_hash_tiles(self, leaf_hashes: Sequence[bytes]) -> None:
        """Check every served hash tile (levels 0, 8, 16, …) against the recomputed tree."""
        level_hashes = list(leaf_hashes)
        level = 0
        while level_hashes:
            for n, width in _tiles(len(level_hashes)):
                start = n * note.TILE_WIDTH
                expected = b"".join(level_hashes[start : start + width])
                if self.fetch(_tile_path(str(level), n, width)) != expected:
                    raise VerificationError(
                        f"hash tile {level}/{n} (width {width}) does not match the entries"
                    )
            # The next tile level holds the roots of complete 256-leaf subtrees of this one.
            level_hashes = [
                merkle.root_from_leaf_hashes(level_hashes[i : i + note.TILE_WIDTH])
                for i in range(0, len(level_hashes) - note.TILE_WIDTH + 1, note.TILE_WIDTH)
            ]
            level += 1

    def verify_consistency(
        self,
        old: VerifiedCheckpoint,
        new: VerifiedCheckpoint,
        *,
        leaf_hashes: Sequence[bytes] | None = None,
    ) -> None:
        """Raise unless `new` extends `old` (the log only ever grew).

        With the new tree's leaf hashes at hand (after `verify_tree`) the old
        root is recomputed from its prefix; otherwise a consistency proof is fetched.
        """
        if old.checkpoint.origin != new.checkpoint.origin:
            raise VerificationError(
                f"inconsistent history: the saved checkpoint is of {old.checkpoint.origin!r},"
                f" the new one of {new.checkpoint.origin!r}"
            )
        if new.size < old.size:
            raise VerificationError(
                f"inconsistent history: the log shrank from {old.size} to {new.size} entries"
            )
        if old.size == new.size:
            if old.root != new.root:
                raise VerificationError(f"inconsistent history: two different trees of size {new.size}")
            return
        if old.size == 0:
            return
        if leaf_hashes is not None:
            if len(leaf_hashes) != new.size:
                raise VerificationError("internal: leaf hashes do not cover the new checkpoint")
            if merkle.root_from_leaf_hashes(leaf_hashes[: old.size]) != old.root:
                raise VerificationError(
                    f"inconsistent history: the first {old.size} entries no longer hash to the"
                    f" root of the saved checkpoint {old.size} — history was changed"
                )
            return
        what = f"consistency proof {old.size}→{new.size}"
        body = self.fetch(f"/api/v1/ledger/proof/consistency?old={old.size}&new={new.size}")
        proof = _proof_hashes(body, what)
        try:
            merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
        except merkle.ProofError as exc:
            raise VerificationError(f"inconsistent history: {what} does not verify ({exc})") from exc

    def verify_inclusion(self, cp: VerifiedCheckpoint, index: int, leaf_data: bytes) -> None:
        """Raise unless `leaf_data` is entry `index` of the checkpoint's tree."""
        if not 0 <= index < cp.size:
            raise VerificationError(f"entry {index} is not covered by checkpoint {cp.size} (yet)")
        what = f"inclusion proof for entry {index} in tree {cp.size}"
        proof = _proof_hashes(
            self.fetch(f"/api/v1/ledger/proof/inclusion?index={index}&size={cp.size}"), what
        )
        try:
            merkle.verify_inclusion(index, cp.size, merkle.leaf_hash(leaf_data), proof, cp.root)
        except merkle.ProofError as exc:
            raise VerificationError(f"not included: {what} does not verify ({exc})") from exc


@dataclass(frozen=True)
class Report:
    checkpoint: VerifiedCheckpoint
    recomputed: bool
    previous_size: int | None
    included_index: int | None

    def lines(self) -> list[str]:
        cp = self.checkpoint
        out = [f"checkpoint {cp.size} of {cp.checkpoint.origin}: signature OK"]
        if self.recomputed:
            out.append(f"recomputed the tree from all {cp.size} entries: root OK, hash tiles OK")
        if self.previous_size is not None:
            out.append(f"consistent with the saved checkpoint {self.previous_size}")
        if self.included_index is not None:
            out.append(f"entry {self.included_index} is included")
        return out


def load_state(path: Path, verifier: note.Verifier) -> VerifiedCheckpoint | None:
    """The last verified checkpoint note saved at `path`, re-verified; None if none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationError(f"cannot read the state file {path}: {exc}") from exc
    try:
        return verify_checkpoint_note(text, verifier)
    except VerificationError as exc:
        raise VerificationError(
            f"the state file {path} does not hold a checkpoint by this key: {exc}"
        ) from exc


def save_state(path: Path, cp: VerifiedCheckpoint) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(cp.note_text, encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves half a checkpoint behind


def run(
    client: Client,
    verifier: note.Verifier,
    *,
    full: bool = True,
    state: Path | None = None,
    inclusion: tuple[int, bytes] | None = None,
) -> Report:
    """All the checks asked for; saves the new checkpoint to `state` only if all passed."""
    previous = load_state(state, verifier) if state is not None else None
    cp = client.latest_checkpoint(verifier)
    hashes = client.verify_tree(cp) if full else None
    if previous is not None:
        client.verify_consistency(previous, cp, leaf_hashes=hashes)
    if inclusion is not None:
        client.verify_inclusion(cp, *inclusion)
    if state is not None:
        save_state(state, cp)
    return Report(
        checkpoint=cp,
        recomputed=full,
        previous_size=previous.size if previous else None,
        included_index=inclusion[0] if inclusion else None,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the site's base URL, e.g. https://rendao.example.org")
    parser.add_argument(
        "--key", required=True, help="the log's verifier key (name+keyid+key), from a source you trust"
    )
    parser.add_argument(
        "--state", type=Path, help="file keeping the last verified checkpoint (checked, then updated)"
    )
    parser.add_argument("--inclusion", type=int, metavar="INDEX", help="a receipt's entry index")
    parser.add_argument("--leaf-file", type=Path, help="file holding the receipt's exact entry bytes")
    parser.add_argument("--no-full", action="store_true", help="skip recomputing the whole tree")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request")


def main_with(ns: argparse.Namespace, out: Callable[[str], None], fetch: Fetch | None = None) -> int:
    """The CLI's body: 0 when everything verified, 1 otherwise (with the reason)."""
    try:
        try:
            verifier = note.Verifier.parse(ns.key)
        except note.NoteError as exc:
            raise VerificationError(f"the --key given is not a verifier key: {exc}") from exc
        if (ns.inclusion is None) != (ns.leaf_file is None):
            raise VerificationError("--inclusion INDEX and --leaf-file F go together")
        inclusion = None
        if ns.inclusion is not None:
            try:
                inclusion = (ns.inclusion, ns.leaf_file.read_bytes())
            except OSError as exc:
                raise VerificationError(f"cannot read {ns.leaf_file}: {exc}") from exc
        client = Client(fetch) if fetch is not None else Client.for_url(ns.url, timeout=ns.timeout)
        try:
            served = client.served_key()
        except VerificationError:
            served = ""
        if served and served != verifier.encode():
            out(f"note: the server publishes a different key: {served}")
        report = run(client, verifier, full=not ns.no_full, state=ns.state, inclusion=inclusion)
    except VerificationError as exc:
        out(f"FAILED: {exc}")
        return 1
    for line in report.lines():
        out(line)
    out("verified")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rendao-verify", description="Verify a rendao transparency log.")
    add_arguments(parser)

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")

    return main_with(parser.parse_args(argv), out)


if __name__ == "__main__":
    sys.exit(main())
