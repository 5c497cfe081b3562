from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import transaction

from rendao.ledger import merkle
from rendao.ledger.models import Entry, EntryKind, LedgerHead, NodeHash
from rendao.ledger.selectors import hash_reader
from rendao.ledger.services import commitment, ledger_append, new_salt

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def _append(n: int) -> list[Entry]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(ledger_append(kind=EntryKind.DONATION_RECEIVED, payload={"amount_fen": 100 + i}))
    return out


def _append_then_fail() -> None:
    with transaction.atomic():
        ledger_append(kind=EntryKind.REFUND, payload={"amount_fen": 1})
        raise Boom


def test_the_leaf_is_canonical_json_of_the_event() -> None:
    with transaction.atomic():
        entry = ledger_append(
            kind=EntryKind.ALLOCATION,
            payload={"amount_fen": 5000, "project": "洪灾", "a": [1, {"z": 1, "b": 2}]},
            occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
    data = bytes(entry.data)
    assert (
        data
        == (
            '{"a":[1,{"b":2,"z":1}],"amount_fen":5000,"at":"2025-01-02T03:04:05.000000Z",'
            '"index":0,"kind":"allocation","project":"洪灾","v":1}'
        ).encode()
    )
    assert bytes(entry.leaf_hash) == merkle.leaf_hash(data)


def test_indexes_are_gapless_and_a_rolled_back_append_gives_its_index_back() -> None:
    _append(2)
    with pytest.raises(Boom):
        _append_then_fail()
    _append(1)
    assert list(Entry.objects.values_list("index", flat=True)) == [0, 1, 2]
    assert LedgerHead.objects.get(pk=1).size == 3
    assert NodeHash.objects.filter(level=0).count() == 3
    assert json.loads(bytes(Entry.objects.get(index=2).data))["kind"] == "donation_received"


def test_it_refuses_to_run_outside_a_transaction() -> None:
    # The test itself runs in a transaction; leave it to see the guard work.
    atomic = transaction.get_connection().in_atomic_block
    transaction.get_connection().in_atomic_block = False
    try:
        with pytest.raises(RuntimeError):
            ledger_append(kind=EntryKind.REFUND, payload={"amount_fen": 1})
    finally:
        transaction.get_connection().in_atomic_block = atomic
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"amount": 1.5}, id="float"),
        pytest.param({"items": [{"weight": 0.1}]}, id="nested float"),
    ],
)
def test_it_refuses_floats(payload: dict[str, object]) -> None:
    with pytest.raises(TypeError), transaction.atomic():
        ledger_append(kind=EntryKind.GOODS_RECEIVED, payload=payload)
    assert not Entry.objects.exists()
    assert LedgerHead.objects.get(pk=1).size == 0


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        pytest.param("test", {}, id="unknown kind"),
        pytest.param(EntryKind.REFUND, {"index": 7}, id="payload overrides the index"),
    ],
)
def test_it_refuses_bad_input(kind: str, payload: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"kind|payload"), transaction.atomic():
        ledger_append(kind=kind, payload=payload)
    assert not NodeHash.objects.exists()


def test_the_root_from_stored_hashes_equals_the_root_over_the_entries_for_every_size() -> None:
    entries = _append(300)
    leaves = [merkle.leaf_hash(bytes(e.data)) for e in entries]
    for size in range(1, 301):
        assert merkle.tree_root(size, hash_reader) == merkle.root_from_leaf_hashes(leaves[:size]), size
    # Every complete subtree once: 2n - popcount(n) rows.
    assert NodeHash.objects.count() == 2 * 300 - bin(300).count("1")


def test_an_append_costs_a_bounded_number_of_queries(django_assert_max_num_queries: object) -> None:
    _append(255)
    # Leaf 255 completes subtrees on levels 0..8: still one read and one batch insert.
    with django_assert_max_num_queries(8), transaction.atomic():  # type: ignore[operator]
        ledger_append(kind=EntryKind.REFUND, payload={"amount_fen": 1})
    assert NodeHash.objects.filter(level=8).count() == 1


def test_a_commitment_hides_the_reference_behind_a_salt() -> None:
    salt = new_salt()
    assert len(salt) == 32
    assert new_salt() != salt
    first = commitment(salt, "donor-42")
    assert len(first) == 64
    assert "donor-42" not in first
    assert commitment(new_salt(), "donor-42") != first
    with pytest.raises(ValueError, match="32"):
        commitment(b"short", "donor-42")
