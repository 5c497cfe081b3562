"""Reads of the log: stored hashes for proofs and tiles, entries, checkpoints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from rendao.ledger import merkle
from rendao.ledger.models import Checkpoint, Entry, LedgerHead, NodeHash
from rendao.ledger.note import Checkpoint as CheckpointBody
from rendao.ledger.note import Note, NoteError, Verifier


def hash_reader(nodes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """merkle.HashReader over NodeHash: every asked (level, index) in one query."""
    if not nodes:
        return {}
    query = Q()
    for level, index in nodes:
        query |= Q(level=level, index=index)
    return {(n.level, n.index): bytes(n.hash) for n in NodeHash.objects.filter(query)}


def ledger_size() -> int:
    """How many entries the log holds (committed): grows with every logged event."""
    return LedgerHead.objects.filter(pk=1).values_list("size", flat=True).first() or 0


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


def checkpoint_note(checkpoint: Checkpoint) -> str:
    """The signed note with the witnesses' cosignature lines appended (C2SP tlog-witness)."""
    lines = [c.line for c in checkpoint.cosignatures.order_by("witness")]
    return checkpoint.note + "".join(lines)


def tile_hashes(level: int, start: int, count: int) -> list[bytes] | None:
    """The stored hashes (level, start) … (level, start+count-1), or None if any is missing."""
    rows = list(
        NodeHash.objects.filter(level=level, index__gte=start, index__lt=start + count)
        .order_by("index")
        .values_list("hash", flat=True)
    )
    if len(rows) != count:
        return None
    return [bytes(h) for h in rows]


def entries_data(start: int, count: int) -> list[bytes] | None:
    rows = list(
        Entry.objects.filter(index__gte=start, index__lt=start + count)
        .order_by("index")
        .values_list("data", flat=True)
    )
    if len(rows) != count:
        return None
    return [bytes(d) for d in rows]


@dataclass(frozen=True)
class HistoryCheck:
    ok: bool
    problem: str = ""


def history_check(checkpoint: Checkpoint, verifier: Verifier) -> HistoryCheck:
    """Recompute the tree from the stored entries alone and compare it with a signed checkpoint.

    Trusts nothing stored but the entries' data: the stored leaf and node hashes
    are what an attacker would recompute. Checks the signature, that indexes run
    0…size-1 without gap, that each entry's data names its own index, that each
    stored leaf hash matches its data, and finally the root.
    """
    try:
        note = Note.parse(checkpoint.note)
        note.verify(verifier)
        # The signed body, not the columns beside it, is what was promised.
        body = CheckpointBody.parse(note.text)
    except NoteError as exc:
        return HistoryCheck(False, f"checkpoint signature: {exc}")
    leaves: list[bytes] = []
    rows = Entry.objects.filter(index__lt=body.size).order_by("index")
    for expected, (index, data, stored) in enumerate(rows.values_list("index", "data", "leaf_hash")):
        if index != expected:
            return HistoryCheck(False, f"entry {expected} is missing")
        try:
            named = json.loads(bytes(data)).get("index")
        except (ValueError, AttributeError):
            named = None
        if named != index:
            return HistoryCheck(False, f"entry {index}'s data does not name its index")
        leaf = merkle.leaf_hash(bytes(data))
        if leaf != bytes(stored):
            return HistoryCheck(False, f"entry {index}'s stored leaf hash does not match its data")
        leaves.append(leaf)
    if len(leaves) != body.size:
        return HistoryCheck(False, f"only {len(leaves)} of {body.size} entries remain")
    if merkle.root_from_leaf_hashes(leaves) != body.root:
        return HistoryCheck(False, "the entries no longer hash to the checkpoint's root")
    return HistoryCheck(True)
