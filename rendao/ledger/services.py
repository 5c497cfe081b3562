"""The log's writes: append an entry, sign a checkpoint, store a witness's cosignature."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.ledger import merkle
from rendao.ledger.keys import ledger_origin, ledger_signer, witness_verifiers
from rendao.ledger.models import Checkpoint, Cosignature, Entry, EntryKind, LedgerHead, NodeHash
from rendao.ledger.note import SIG_PREFIX, sign_note
from rendao.ledger.note import Checkpoint as CheckpointBody
from rendao.ledger.selectors import hash_reader

SCHEMA_VERSION = 1
# A checkpoint is signed at least this often even when nothing was appended, so a
# verifier can tell a quiet log from a server that stopped answering honestly.
CHECKPOINT_MAX_AGE = timedelta(days=1)


def new_salt() -> bytes:
    """32 random bytes for a commitment; printed only on the person's own receipt."""
    return secrets.token_bytes(32)


def commitment(salt: bytes, reference: str) -> str:
    """hex SHA-256(0x02 ‖ salt ‖ reference): names a donor or beneficiary without revealing them.

    The 0x02 prefix keeps these hashes apart from leaf (0x00) and node (0x01) hashes.
    """
    if len(salt) != 32:
        raise ValueError("a commitment salt is 32 bytes")
    return hashlib.sha256(b"\x02" + salt + reference.encode()).hexdigest()


def _no_floats(value: object) -> None:
    # Floats round differently across languages, so a verifier re-encoding the
    # leaf could get other bytes; money is integer fen anyway.
    if isinstance(value, float):
        raise TypeError("ledger entries hold no floats: money is integer fen")
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_floats(item)


def canonical_json(value: dict[str, object]) -> bytes:
    _no_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _utc_text(moment: datetime) -> str:
    if timezone.is_naive(moment):
        raise ValueError("ledger times are timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _locked_head() -> LedgerHead:
    try:
        return LedgerHead.objects.select_for_update().get(pk=1)
    except LedgerHead.DoesNotExist:
        # Seeded by migration 0002; only a flushed test database lacks it.
        LedgerHead.objects.get_or_create(pk=1)
        return LedgerHead.objects.select_for_update().get(pk=1)


def _frontier_hashes(head: LedgerHead, size: int) -> list[bytes]:
    """The right edge of a tree of `size` leaves, from the head row (or rebuilt once)."""
    raw = bytes(head.frontier or b"")
    width = merkle.HASH_SIZE
    if len(raw) == width * bin(size).count("1"):
        return [raw[i : i + width] for i in range(0, len(raw), width)]
    # A head written before the edge was kept: read the edge from the stored
    # complete subtrees (one per set bit of size), highest level first.
    nodes = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    if not nodes:
        return []
    query = Q()
    for level, node in nodes:
        query |= Q(level=level, index=node)
    stored = {(n.level, n.index): bytes(n.hash) for n in NodeHash.objects.filter(query)}
    return [stored[n] for n in nodes]


def ledger_append(*, kind: str, payload: dict[str, object], occurred_at: datetime | None = None) -> Entry:
    """Append one event to the log inside the caller's transaction; returns the entry.

    The index is the head's size, read under the head's row lock, so concurrent
    appends queue and a rolled-back transaction gives its index back. The tree
    hashes the new leaf completes are computed from stored children and written
    in one batch with the entry, so they commit or vanish together.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_append runs inside the business transaction (transaction.atomic)")
    if kind not in EntryKind.values:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    reserved = {"v", "kind", "at", "index"} & set(payload)
    if reserved:
        raise ValueError(f"the payload may not set {sorted(reserved)}")
    head = _locked_head()
    index = head.size
    moment = occurred_at or timezone.now()
    data = canonical_json(
        {"v": SCHEMA_VERSION, "kind": kind, "at": _utc_text(moment), "index": index, **payload}
    )
    leaf = merkle.leaf_hash(data)

    completed = merkle.complete_subtrees_ending_at(index)
    # Each parent's left child is a complete subtree on the right edge of the
    # tree before this leaf: the last len(completed) - 1 hashes of the frontier,
    # lowest level last.
    edge = _frontier_hashes(head, index)
    rows = [NodeHash(level=0, index=index, hash=leaf)]
    current = leaf
    for level, node in completed[1:]:
        current = merkle.node_hash(edge.pop(), current)
        rows.append(NodeHash(level=level, index=node, hash=current))
    edge.append(current)
    NodeHash.objects.bulk_create(rows)
    entry = Entry.objects.create(index=index, kind=kind, data=data, leaf_hash=leaf)
    LedgerHead.objects.filter(pk=1).update(size=index + 1, frontier=b"".join(edge))

    from rendao.ledger.tasks import checkpoint_soon

    transaction.on_commit(checkpoint_soon)
    return entry


def ledger_checkpoint_sign(*, now: datetime | None = None) -> Checkpoint | None:
    """Sign the committed head if it grew, or if the last checkpoint is a day old.

    Runs in its own transaction and reads the head as committed, so a checkpoint
    never covers an entry that could still roll back. Returns the new checkpoint,
    or None when there was nothing to sign. Safe to run twice at once: the head's
    row lock serialises signers (and holds appends back for one signature only).
    """
    now = now or timezone.now()
    with transaction.atomic():
        size = _locked_head().size
        last = Checkpoint.objects.order_by("-id").first()
        if last is not None and last.size >= size and now - last.created_at < CHECKPOINT_MAX_AGE:
            return None
        root = merkle.tree_root(size, hash_reader)
        body = CheckpointBody(origin=ledger_origin(), size=size, root=root)
        note = sign_note(body.text(), ledger_signer())
        return Checkpoint.objects.create(size=size, root=root, note=note, created_at=now)


def _cosignature_error(message: str) -> ValidationError:
    return ValidationError({"line": [message]})


def ledger_cosignature_add(*, size: int, line: str) -> Cosignature:
    """Store a witness's C2SP tlog-cosignature/v1 line on our latest checkpoint of `size`.

    The line must come from a configured witness (RENDAO_LEDGER_WITNESSES) and
    verify over "cosignature/v1\\ntime <t>\\n" + the checkpoint body; anything
    else is refused without storing.
    """
    checkpoint = Checkpoint.objects.filter(size=size).order_by("-id").first()
    if checkpoint is None:
        raise _cosignature_error(_("There is no checkpoint of that size."))
    line = line.strip("\n") + "\n"
    if not line.startswith(SIG_PREFIX) or line.count("\n") != 1:
        raise _cosignature_error(_("A cosignature is one signature line starting with an em dash."))
    name, _sep, blob = line[len(SIG_PREFIX) : -1].rpartition(" ")
    witness = witness_verifiers().get(name)
    if witness is None:
        raise _cosignature_error(_("This witness is not one the log accepts."))
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        raise _cosignature_error(_("The cosignature is not valid base64.")) from None
    kid, public = witness
    if len(raw) != 4 + 8 + 64 or raw[:4] != kid:
        raise _cosignature_error(_("The cosignature is not from this witness's key."))
    timestamp = int.from_bytes(raw[4:12], "big")
    text = checkpoint.note[: checkpoint.note.rfind("\n\n") + 1]
    signed = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], signed)
    except InvalidSignature:
        raise _cosignature_error(_("The cosignature does not verify for this checkpoint.")) from None
    try:
        with transaction.atomic():
            return Cosignature.objects.create(checkpoint=checkpoint, witness=name, line=line)
    except IntegrityError:
        raise _cosignature_error(_("This witness has already cosigned this checkpoint.")) from None
