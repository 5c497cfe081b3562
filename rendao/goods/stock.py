"""The three ways stock changes, shared by intake, transfers, issues and write-offs.

Each runs inside the caller's transaction and does, in one go: the row locks,
the checks, the lot's running totals, the per-warehouse stock row, one
append-only `Move` and one transparency-log entry. Nothing else writes
`Lot.quantity_*` or `Stock.quantity`, so the lot identity
(received = issued + on hand + written off) and "no stock below zero" hold by
construction, with database constraints behind them.

Lock order, everywhere: the lot row first, then its stock rows in warehouse-id
order. Two transfers of the same lot in opposite directions therefore queue
instead of deadlocking.

While a stock-take of a warehouse is open, nothing moves into or out of the
stock it counts: transfers from or to it and issues or write-offs from it are
refused (a count compared with a moving target proves nothing). Receiving a new
intake is allowed, because a new lot is not on the count sheet. The check runs
after the stock rows are locked, and stocktake_open locks the same rows before
it reads them, so a move and the opening of a count cannot interleave.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from rendao.goods.models import Lot, Move, MoveKind, Stock, StockTake, StockTakeStatus, Warehouse
from rendao.ledger.models import EntryKind
from rendao.ledger.services import ledger_append

if TYPE_CHECKING:
    from datetime import datetime

    from rendao.core.models import User

# The log kind each move appends.
_LEAF_KIND: dict[str, str] = {
    MoveKind.RECEIVE: EntryKind.GOODS_RECEIVED,
    MoveKind.TRANSFER: EntryKind.GOODS_MOVED,
    MoveKind.ISSUE: EntryKind.GOODS_ISSUED,
    MoveKind.WRITE_OFF: EntryKind.WRITE_OFF,
}


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("stock changes run inside the business transaction (transaction.atomic)")


def _check_quantity(quantity: object) -> int:
    # bool is an int in Python; a quantity of True is a bug, not one unit.
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ValidationError(_("The quantity must be a whole number above zero."), code="bad_quantity")
    return quantity


def _check_active(warehouse: Warehouse, message: str) -> None:
    # Read again rather than trusting the caller's instance: it may predate a close.
    if not Warehouse.objects.filter(pk=warehouse.pk, is_active=True).exists():
        raise ValidationError(message, code="warehouse_closed")


def _check_not_counting(*warehouses: Warehouse) -> None:
    counting = StockTake.objects.filter(
        warehouse__in=[w.pk for w in warehouses], status=StockTakeStatus.OPEN
    ).values_list("warehouse__name", flat=True)
    names = list(counting)
    if names:
        raise ValidationError(
            _("%(warehouse)s is being counted (stock-take); goods move again once the count is closed.")
            % {"warehouse": names[0]},
            code="stocktake_open",
        )


def _locked_lot(lot: Lot) -> Lot:
    # select_for_update is a no-op on SQLite, where the write lock of the
    # surrounding transaction already serialises writers.
    return Lot.objects.select_for_update().get(pk=lot.pk)


def _locked_stock(lot: Lot, warehouse: Warehouse) -> Stock:
    row, _created = Stock.objects.select_for_update().get_or_create(lot=lot, warehouse=warehouse)
    return row


def _leaf(
    kind: str,
    *,
    lot: Lot,
    quantity: int,
    reference: str,
    source: Warehouse | None,
    target: Warehouse | None,
    extra: dict[str, object] | None,
    at: datetime | None,
) -> int:
    payload: dict[str, object] = {
        "lot": lot.number,
        "item": lot.item_name,
        "specification": lot.specification,
        "unit": lot.unit,
        "quantity": quantity,
        # Estimated value of what moved, integer fen.
        "value_fen": lot.unit_value_fen * quantity,
        "reference": reference,
    }
    if source is not None:
        payload["from"] = source.code
    if target is not None:
        payload["to"] = target.code
    if extra:
        payload.update(extra)
    entry = ledger_append(kind=_LEAF_KIND[kind], payload=payload, occurred_at=at)
    return entry.index


def stock_receive(
    *,
    lot: Lot,
    warehouse: Warehouse,
    actor: User,
    reference: str,
    extra: dict[str, object] | None = None,
    at: datetime | None = None,
) -> Move:
    """Put a newly created lot's whole quantity into a warehouse (once per lot).

    The lot identity is a database constraint, so a new lot is created with
    quantity_on_hand = quantity_received (nothing issued or written off); what
    makes it "received" is this call: its one RECEIVE move, its stock row and
    its log entry. A lot with any move or stock already is refused.
    """
    _require_transaction()
    _check_active(warehouse, _("This warehouse is closed and takes no goods."))
    locked = _locked_lot(lot)
    fresh = (
        locked.quantity_on_hand == locked.quantity_received
        and not locked.quantity_issued
        and not locked.quantity_written_off
    )
    if not fresh or locked.moves.exists() or locked.stock.filter(quantity__gt=0).exists():
        raise ValidationError(_("This lot has already been received."), code="already_received")
    stock = _locked_stock(locked, warehouse)
    quantity = locked.quantity_received
    stock.quantity = quantity
    stock.save(update_fields=["quantity"])
    index = _leaf(
        MoveKind.RECEIVE,
        lot=locked,
        quantity=quantity,
        reference=reference,
        source=None,
        target=warehouse,
        extra=extra,
        at=at,
    )
    lot.quantity_on_hand = quantity
    return Move.objects.create(
        kind=MoveKind.RECEIVE,
        lot=locked,
        to_warehouse=warehouse,
        quantity=quantity,
        reference=reference,
        actor=actor,
        ledger_index=index,
        **({"at": at} if at else {}),
    )


def _take(stock: Stock, quantity: int, lot: Lot, warehouse: Warehouse) -> None:
    if stock.quantity < quantity:
        raise ValidationError(
            _(
                "Only %(available)s %(unit)s of lot %(lot)s are in %(warehouse)s; "
                "%(quantity)s cannot be taken out."
            )
            % {
                "available": stock.quantity,
                "unit": lot.unit,
                "lot": lot.number,
                "warehouse": warehouse.name,
                "quantity": quantity,
            },
            code="not_in_stock",
        )
    stock.quantity -= quantity
    stock.save(update_fields=["quantity"])


def stock_transfer(
    *,
    lot: Lot,
    source: Warehouse,
    target: Warehouse,
    quantity: int,
    actor: User,
    reference: str,
    extra: dict[str, object] | None = None,
    at: datetime | None = None,
) -> Move:
    """Move part of a lot from one warehouse to another; the lot's totals do not change."""
    _require_transaction()
    quantity = _check_quantity(quantity)
    if source.pk == target.pk:
        raise ValidationError(_("Choose a different warehouse to move the goods to."), code="same_warehouse")
    _check_active(target, _("The receiving warehouse is closed."))
    locked = _locked_lot(lot)
    first, second = sorted((source, target), key=lambda w: w.pk)
    rows = {first.pk: _locked_stock(locked, first), second.pk: _locked_stock(locked, second)}
    _check_not_counting(source, target)
    _take(rows[source.pk], quantity, locked, source)
    rows[target.pk].quantity += quantity
    rows[target.pk].save(update_fields=["quantity"])
    index = _leaf(
        MoveKind.TRANSFER,
        lot=locked,
        quantity=quantity,
        reference=reference,
        source=source,
        target=target,
        extra=extra,
        at=at,
    )
    return Move.objects.create(
        kind=MoveKind.TRANSFER,
        lot=locked,
        from_warehouse=source,
        to_warehouse=target,
        quantity=quantity,
        reference=reference,
        actor=actor,
        ledger_index=index,
        **({"at": at} if at else {}),
    )


def stock_remove(
    *,
    kind: MoveKind,
    lot: Lot,
    warehouse: Warehouse,
    quantity: int,
    actor: User,
    reference: str,
    extra: dict[str, object] | None = None,
    at: datetime | None = None,
) -> Move:
    """Take goods out of stock for good: issued to a recipient, or written off."""
    _require_transaction()
    if kind not in (MoveKind.ISSUE, MoveKind.WRITE_OFF):
        raise ValueError(f"stock_remove moves goods out by issue or write-off, not {kind!r}")
    quantity = _check_quantity(quantity)
    locked = _locked_lot(lot)
    row = _locked_stock(locked, warehouse)
    _check_not_counting(warehouse)
    _take(row, quantity, locked, warehouse)
    locked.quantity_on_hand -= quantity
    if kind == MoveKind.ISSUE:
        locked.quantity_issued += quantity
    else:
        locked.quantity_written_off += quantity
    locked.save(update_fields=["quantity_on_hand", "quantity_issued", "quantity_written_off"])
    index = _leaf(
        kind,
        lot=locked,
        quantity=quantity,
        reference=reference,
        source=warehouse,
        target=None,
        extra=extra,
        at=at,
    )
    return Move.objects.create(
        kind=kind,
        lot=locked,
        from_warehouse=warehouse,
        quantity=quantity,
        reference=reference,
        actor=actor,
        ledger_index=index,
        **({"at": at} if at else {}),
    )
