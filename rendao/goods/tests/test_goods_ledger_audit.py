"""`ledger_audit` re-derives goods received, moved and stock-take leaves from the goods tables."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from rendao.conftest import Personas
from rendao.goods.models import Lot, Move, StockTakeLine
from rendao.goods.stocktake import stocktake_close, stocktake_count, stocktake_open
from rendao.goods.tests.factories import line, receive, warehouse
from rendao.goods.warehouses import transfer_create
from rendao.ledger.audit_registry import ledger_audit

pytestmark = pytest.mark.django_db


def _goods_world(personas: Personas) -> Lot:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    b = warehouse(actor, personas.tree.siming)
    intake = receive(actor, a, line(quantity=10), line(item_name="书包", unit="个", quantity=5))
    lot = intake.lots.order_by("id").first()
    assert lot is not None
    transfer_create(actor=actor, lot=lot, source=a, target=b, quantity=3)
    take = stocktake_open(actor=actor, warehouse=b)
    stocktake_count(actor=actor, line=take.lines.get(), counted=2)
    stocktake_close(actor=actor, stocktake=take)
    return lot


def test_untouched_goods_rows_re_derive_their_leaves(personas: Personas) -> None:
    _goods_world(personas)
    report = ledger_audit()
    assert report.ok, report.mismatches
    assert report.checked == 4
    assert not {"goods_received", "goods_moved", "stocktake"} & set(report.not_checked)


def test_a_changed_lot_or_count_is_reported(personas: Personas) -> None:
    lot = _goods_world(personas)
    Lot.objects.filter(pk=lot.pk).update(item_name="别的东西")
    StockTakeLine.objects.update(counted=3)
    reasons = [m.reason for m in ledger_audit().mismatches]
    assert sum("item" in r for r in reasons) == 2  # its receipt and its transfer
    assert any("counted" in r for r in reasons)


def test_moves_are_append_only(personas: Personas) -> None:
    lot = _goods_world(personas)
    move = Move.objects.filter(lot=lot).first()
    assert move is not None
    for sql in ("UPDATE goods_move SET quantity = 1 WHERE id = %s", "DELETE FROM goods_move WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [move.pk])
    assert Move.objects.filter(pk=move.pk, quantity=move.quantity).exists()
