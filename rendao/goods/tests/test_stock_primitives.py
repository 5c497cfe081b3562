"""stock_receive / stock_transfer / stock_remove: identity, no negative stock, refusals change nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from rendao.conftest import Personas
from rendao.goods.models import Lot, Move, MoveKind, Stock
from rendao.goods.stock import stock_receive, stock_remove, stock_transfer
from rendao.goods.tests.factories import one_lot, warehouse
from rendao.goods.warehouses import warehouse_close
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db


def _identity(lot: Lot) -> None:
    lot.refresh_from_db()
    on_hand = sum(Stock.objects.filter(lot=lot).values_list("quantity", flat=True))
    assert lot.quantity_received == lot.quantity_issued + lot.quantity_on_hand + lot.quantity_written_off
    assert lot.quantity_on_hand == on_hand
    assert not Stock.objects.filter(lot=lot, quantity__lt=0).exists()


def _state(lot: Lot) -> tuple[object, ...]:
    lot.refresh_from_db()
    stock = tuple(
        Stock.objects.filter(lot=lot).order_by("warehouse_id").values_list("warehouse_id", "quantity")
    )
    return (
        lot.quantity_on_hand,
        lot.quantity_issued,
        lot.quantity_written_off,
        stock,
        Move.objects.count(),
        Entry.objects.count(),
    )


def test_it_keeps_the_identity_through_every_kind_of_move(personas: Personas) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    b = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a, quantity=100)
    with transaction.atomic():
        stock_transfer(lot=lot, source=a, target=b, quantity=30, actor=actor, reference="t")
        stock_remove(kind=MoveKind.ISSUE, lot=lot, warehouse=b, quantity=10, actor=actor, reference="i")
        stock_remove(kind=MoveKind.WRITE_OFF, lot=lot, warehouse=a, quantity=5, actor=actor, reference="w")
    _identity(lot)
    assert (lot.quantity_on_hand, lot.quantity_issued, lot.quantity_written_off) == (85, 10, 5)
    assert list(lot.moves.values_list("kind", flat=True)) == ["receive", "transfer", "issue", "write_off"]
    assert Entry.objects.filter(index__in=lot.moves.values("ledger_index")).count() == 4


def test_it_refuses_to_take_more_than_is_there_and_changes_nothing(personas: Personas) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    b = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a, quantity=10)
    before = _state(lot)
    calls: list[Callable[[], object]] = [
        lambda: stock_transfer(lot=lot, source=a, target=b, quantity=11, actor=actor, reference="t"),
        lambda: stock_remove(
            kind=MoveKind.ISSUE, lot=lot, warehouse=a, quantity=11, actor=actor, reference="i"
        ),
        lambda: stock_remove(
            kind=MoveKind.ISSUE, lot=lot, warehouse=b, quantity=1, actor=actor, reference="i"
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as exc, transaction.atomic():
            call()
        assert exc.value.code == "not_in_stock"
    assert _state(lot) == before


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "3", None])
def test_it_refuses_a_quantity_that_is_not_a_positive_whole_number(
    personas: Personas, quantity: object
) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    b = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a)
    before = _state(lot)
    with pytest.raises(ValidationError), transaction.atomic():
        stock_transfer(lot=lot, source=a, target=b, quantity=quantity, actor=actor, reference="t")  # type: ignore[arg-type]
    with pytest.raises(ValidationError), transaction.atomic():
        stock_remove(kind=MoveKind.ISSUE, lot=lot, warehouse=a, quantity=quantity, actor=actor, reference="i")  # type: ignore[arg-type]
    assert _state(lot) == before


def test_it_refuses_a_transfer_to_the_same_or_a_closed_warehouse(personas: Personas) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    b = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a)
    warehouse_close(actor=actor, warehouse=b)
    before = _state(lot)
    with pytest.raises(ValidationError) as same, transaction.atomic():
        stock_transfer(lot=lot, source=a, target=a, quantity=1, actor=actor, reference="t")
    # The stale instance still says "active": the primitive reads the row again.
    b.is_active = True
    with pytest.raises(ValidationError) as closed, transaction.atomic():
        stock_transfer(lot=lot, source=a, target=b, quantity=1, actor=actor, reference="t")
    assert (same.value.code, closed.value.code) == ("same_warehouse", "warehouse_closed")
    assert _state(lot) == before


def test_it_receives_a_lot_only_once(personas: Personas) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a)
    before = _state(lot)
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        stock_receive(lot=lot, warehouse=a, actor=actor, reference="again")
    assert exc.value.code == "already_received"
    assert _state(lot) == before


def test_remove_accepts_only_issue_and_write_off(personas: Personas) -> None:
    actor = personas.siming_staff
    a = warehouse(actor, personas.tree.siming)
    lot = one_lot(actor, a)
    with pytest.raises(ValueError, match="issue or write-off"), transaction.atomic():
        stock_remove(kind=MoveKind.TRANSFER, lot=lot, warehouse=a, quantity=1, actor=actor, reference="x")
