from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from rendao.ledger.models import Checkpoint, Cosignature, Entry, EntryKind, NodeHash
from rendao.ledger.services import ledger_append, ledger_checkpoint_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def log() -> Checkpoint:
    for i in range(4):
        with transaction.atomic():
            ledger_append(kind=EntryKind.GOODS_ISSUED, payload={"count": i})
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint is not None
    Cosignature.objects.create(checkpoint=checkpoint, witness="w", line="\u2014 w AAAA\n")
    return checkpoint


@pytest.mark.parametrize(
    "table", ["ledger_entry", "ledger_nodehash", "ledger_checkpoint", "ledger_cosignature"]
)
def test_the_database_refuses_to_update_or_delete_log_rows(log: Checkpoint, table: str) -> None:
    counts = (Entry.objects.count(), NodeHash.objects.count(), Checkpoint.objects.count())
    for sql in (f"UPDATE {table} SET id = id + 1000", f"DELETE FROM {table}"):  # noqa: S608 - our table names
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert (Entry.objects.count(), NodeHash.objects.count(), Checkpoint.objects.count()) == counts
    assert Cosignature.objects.count() == 1


def test_the_orm_cannot_edit_an_entry_either(log: Checkpoint) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(index=1).update(kind=EntryKind.REFUND)
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(index=3).delete()
    assert list(Entry.objects.values_list("index", "kind")) == [(i, "goods_issued") for i in range(4)]
