"""1,000 random rewrites of history, each caught against a previously signed checkpoint.

Each mutation is made with raw SQL by someone who switched the append-only
triggers off, some by an attacker careful enough to recompute leaf hashes and
renumber entries; each is rolled back (with its trigger change) by a savepoint,
so one fixture log of 64 entries serves all of them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from rendao.ledger import merkle
from rendao.ledger.keys import ledger_verifier
from rendao.ledger.models import Checkpoint, EntryKind
from rendao.ledger.note import Verifier
from rendao.ledger.selectors import history_check
from rendao.ledger.services import canonical_json, ledger_append, ledger_checkpoint_sign

pytestmark = pytest.mark.django_db

SIZE = 64
MUTATIONS = 1000


class Undo(Exception):
    """Raised to roll a mutation back with its savepoint."""


def _sql(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _triggers_off() -> None:
    # Simulates an attacker with direct database access; undone by the savepoint.
    if connection.vendor == "postgresql":
        _sql("SET LOCAL session_replication_role = replica")
    else:
        _sql("DROP TRIGGER ledger_entry_no_update")
        _sql("DROP TRIGGER ledger_entry_no_delete")


def _row(index: int) -> tuple[int, bytes, bytes]:
    with connection.cursor() as cur:
        cur.execute('SELECT id, data, leaf_hash FROM ledger_entry WHERE "index" = %s', [index])
        pk, data, leaf = cur.fetchone()
    return pk, bytes(data), bytes(leaf)


def _set(index: int, data: bytes, leaf: bytes | None = None) -> None:
    leaf = merkle.leaf_hash(data) if leaf is None else leaf
    _sql('UPDATE ledger_entry SET data = %s, leaf_hash = %s WHERE "index" = %s', [data, leaf, index])


def _edited(data: bytes, rng: random.Random, index: int | None = None) -> bytes:
    value = json.loads(data)
    value["amount_fen"] += rng.randint(1, 10_000)
    if index is not None:
        value["index"] = index
    return canonical_json(value)


def edit_data(rng: random.Random) -> None:
    index = rng.randrange(SIZE)
    _pk, data, leaf = _row(index)
    _set(index, _edited(data, rng), leaf)


def edit_data_and_recompute_the_leaf(rng: random.Random) -> None:
    index = rng.randrange(SIZE)
    _set(index, _edited(_row(index)[1], rng))


def flip_a_byte(rng: random.Random) -> None:
    index = rng.randrange(SIZE)
    data = bytearray(_row(index)[1])
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    _set(index, bytes(data), None if rng.random() < 0.5 else _row(index)[2])


def edit_the_leaf_hash(rng: random.Random) -> None:
    index = rng.randrange(SIZE)
    _pk, data, _leaf = _row(index)
    _set(index, data, rng.randbytes(32))


def delete_a_row(rng: random.Random) -> None:
    _sql('DELETE FROM ledger_entry WHERE "index" = %s', [rng.randrange(SIZE)])


def swap_two_rows(rng: random.Random) -> None:
    a, b = rng.sample(range(SIZE), 2)
    data_a, data_b = _row(a)[1], _row(b)[1]
    if rng.random() < 0.5:
        _set(a, data_b)
        _set(b, data_a)
    else:  # and rewrite each one's index so every entry still names its own
        value_a, value_b = json.loads(data_a), json.loads(data_b)
        value_a["index"], value_b["index"] = b, a
        _set(a, canonical_json(value_b))
        _set(b, canonical_json(value_a))


def insert_a_row(rng: random.Random) -> None:
    """Insert a forged entry at k, renumbering everything after it consistently."""
    k = rng.randrange(SIZE)
    # Two steps so that no statement needs two rows on one index at once.
    _sql('UPDATE ledger_entry SET "index" = -"index" - 2 WHERE "index" >= %s', [k])
    _sql('UPDATE ledger_entry SET "index" = -"index" - 1 WHERE "index" < 0')
    for index in range(SIZE, k, -1):
        value = json.loads(_row(index)[1])
        value["index"] = index
        _set(index, canonical_json(value))
    forged = _edited(_row(k + 1)[1], rng, index=k)
    _sql(
        'INSERT INTO ledger_entry ("index", kind, data, leaf_hash, created_at) '
        'SELECT %s, kind, %s, %s, created_at FROM ledger_entry WHERE "index" = %s',
        [k, forged, merkle.leaf_hash(forged), k + 1],
    )


MUTATORS: list[Callable[[random.Random], None]] = [
    edit_data,
    edit_data_and_recompute_the_leaf,
    flip_a_byte,
    edit_the_leaf_hash,
    delete_a_row,
    swap_two_rows,
    insert_a_row,
]


def _mutate_and_check(
    mutate: Callable[[random.Random], None], rng: random.Random, log: Checkpoint, verifier: Verifier, n: int
) -> None:
    with transaction.atomic():
        _triggers_off()
        mutate(rng)
        result = history_check(log, verifier)
        assert not result.ok, f"mutation {n} ({mutate.__name__}) went unnoticed"
        raise Undo


def _forge_checkpoint_and_check(log: Checkpoint) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _sql("SET LOCAL session_replication_role = replica")
        else:
            _sql("DROP TRIGGER ledger_checkpoint_no_update")
        forged = log.note.replace("\n64\n", "\n63\n")
        _sql("UPDATE ledger_checkpoint SET note = %s WHERE id = %s", [forged, log.pk])
        log.refresh_from_db()
        assert not history_check(log, ledger_verifier()).ok
        raise Undo


@pytest.fixture
def signed_log() -> Checkpoint:
    for i in range(SIZE):
        with transaction.atomic():
            ledger_append(kind=EntryKind.DONATION_RECEIVED, payload={"amount_fen": 100 * i})
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    # Entries after the checkpoint are not what it promises; they may come and go.
    with transaction.atomic():
        ledger_append(kind=EntryKind.REFUND, payload={"amount_fen": 1})
    return checkpoint


def test_every_random_mutation_of_history_is_detected(signed_log: Checkpoint) -> None:
    verifier = ledger_verifier()
    assert history_check(signed_log, verifier).ok
    rng = random.Random(20250601)  # reproducible, not secret
    detected: dict[str, int] = {m.__name__: 0 for m in MUTATORS}
    for n in range(MUTATIONS):
        mutate = MUTATORS[n % len(MUTATORS)]
        with pytest.raises(Undo):
            _mutate_and_check(mutate, rng, signed_log, verifier, n)
        detected[mutate.__name__] += 1
    assert sum(detected.values()) == MUTATIONS
    # Every savepoint undid its mutation: the log verifies again, triggers and all.
    assert history_check(signed_log, verifier).ok
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql("DELETE FROM ledger_entry")


def test_a_forged_checkpoint_root_is_detected(signed_log: Checkpoint) -> None:
    # Rewriting the stored note does not help: its signature no longer verifies.
    with pytest.raises(Undo):
        _forge_checkpoint_and_check(signed_log)
    signed_log.refresh_from_db()
    assert history_check(signed_log, ledger_verifier()).ok
