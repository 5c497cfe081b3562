"""Stock-takes: expected from the books, differences recorded (not fixed), a log entry, moves frozen."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rendao.conftest import Personas
from rendao.goods.models import MoveKind, Stock, StockTakeStatus
from rendao.goods.stock import stock_remove
from rendao.goods.stocktake import stocktake_close, stocktake_count, stocktake_open
from rendao.goods.tests.factories import line, one_lot, receive, warehouse
from rendao.goods.warehouses import transfer_create
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db


def test_a_count_records_differences_and_logs_its_totals(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    lots = list(
        receive(actor, wh, line(quantity=10), line(quantity=20), line(quantity=30)).lots.order_by("id")
    )
    take = stocktake_open(actor=actor, warehouse=wh)
    lines = {x.lot_id: x for x in take.lines.all()}
    assert [lines[x.pk].expected for x in lots] == [10, 20, 30]
    stocktake_count(actor=actor, line=lines[lots[0].pk], counted=10)
    stocktake_count(actor=actor, line=lines[lots[1].pk], counted=17, note="破损三个")
    with pytest.raises(ValidationError) as exc:
        stocktake_close(actor=actor, stocktake=take)
    assert exc.value.code == "uncounted"
    stocktake_count(actor=actor, line=lines[lots[2].pk], counted=31)
    closed = stocktake_close(actor=actor, stocktake=take)
    assert closed.status == StockTakeStatus.CLOSED
    assert closed.ledger_index is not None
    leaf = json.loads(bytes(Entry.objects.get(index=closed.ledger_index).data))
    assert leaf["kind"] == EntryKind.STOCKTAKE
    assert (leaf["warehouse"], leaf["lines"], leaf["lines_differing"], leaf["shortage"], leaf["surplus"]) == (
        wh.code,
        3,
        2,
        -3,
        1,
    )
    # Recorded, never silently fixed: the books still say what they said.
    assert Stock.objects.get(lot=lots[1], warehouse=wh).quantity == 20
    with pytest.raises(ValidationError):
        stocktake_count(actor=actor, line=lines[lots[0].pk], counted=1)


@pytest.mark.parametrize("counted", [-1, True, 1.5, "3"])
def test_a_bad_count_is_refused(personas: Personas, counted: object) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    one_lot(actor, wh)
    take = stocktake_open(actor=actor, warehouse=wh)
    with pytest.raises(ValidationError):
        stocktake_count(actor=actor, line=take.lines.get(), counted=counted)  # type: ignore[arg-type]
    assert take.lines.get().counted is None


def test_one_count_at_a_time_and_only_in_scope(personas: Personas) -> None:
    actor = personas.siming_staff
    wh = warehouse(actor, personas.tree.siming)
    stocktake_open(actor=actor, warehouse=wh)
    with pytest.raises(ValidationError):
        stocktake_open(actor=actor, warehouse=wh)
    with pytest.raises(PermissionDenied):
        stocktake_open(actor=personas.huli_staff, warehouse=wh)


def test_goods_do_not_move_out_of_or_into_a_warehouse_being_counted(personas: Personas) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    b = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a, quantity=10)
    take = stocktake_open(actor=actor, warehouse=b)
    with pytest.raises(ValidationError) as into:
        transfer_create(actor=actor, lot=lot, source=a, target=b, quantity=1)
    stocktake_close(actor=actor, stocktake=take)
    stocktake_open(actor=actor, warehouse=a)
    with pytest.raises(ValidationError) as out, transaction.atomic():
        stock_remove(kind=MoveKind.ISSUE, lot=lot, warehouse=a, quantity=1, actor=actor, reference="x")
    assert into.value.code == out.value.code == "stocktake_open"
    # New intakes still arrive: a new lot is not on the count sheet.
    receive(actor, a)
    assert Stock.objects.get(lot=lot, warehouse=a).quantity == 10
