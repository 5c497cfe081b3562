"""Re-deriving the goods app's transparency-log leaves from its rows (`rendao manage ledger_audit`).

Registered from GoodsConfig.ready(). A received or moved leaf names its lot
(a unique number); the move with that leaf's index among the lot's few moves
is the row it was logged for, and stock._leaf's payload is rebuilt from it. A
stock-take leaf names its stock-take; the payload is rebuilt from its lines.
The issue and write-off leaves are re-derived by the distribution code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rendao.goods.intake import ledger_extra
from rendao.goods.models import Lot, Move, MoveKind, StockTake, StockTakeStatus
from rendao.goods.stocktake import stocktake_payload
from rendao.ledger.audit_registry import Gone


def _utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def move_payload(move: Move) -> dict[str, object]:
    """The payload stock._leaf writes for `move` (receive and transfer moves)."""
    lot = move.lot
    payload: dict[str, object] = {
        "lot": lot.number,
        "item": lot.item_name,
        "specification": lot.specification,
        "unit": lot.unit,
        "quantity": move.quantity,
        "value_fen": lot.unit_value_fen * move.quantity,
        "reference": move.reference,
    }
    if move.from_warehouse is not None:
        payload["from"] = move.from_warehouse.code
    if move.to_warehouse is not None:
        payload["to"] = move.to_warehouse.code
    if move.kind == MoveKind.RECEIVE:
        payload.update(ledger_extra(lot.intake))
    return payload


def _move_for(logged: Mapping[str, object], kind: str) -> Move:
    number = logged.get("lot")
    index = logged.get("index")
    if not isinstance(number, str) or not isinstance(index, int):
        raise Gone
    lot = Lot.objects.select_related("intake").filter(number=number).first()
    if lot is None:
        raise Gone
    move = (
        Move.objects.select_related("from_warehouse", "to_warehouse")
        .filter(lot=lot, ledger_index=index, kind=kind)
        .first()
    )
    if move is None:
        raise Gone
    move.lot = lot
    return move


def goods_received_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    return move_payload(_move_for(logged, MoveKind.RECEIVE))


def goods_moved_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    return move_payload(_move_for(logged, MoveKind.TRANSFER))


def stocktake_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """Includes "at": the leaf is logged at the stock-take's closing time."""
    pk = logged.get("stocktake")
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise Gone
    stocktake = (
        StockTake.objects.select_related("warehouse").filter(pk=pk, status=StockTakeStatus.CLOSED).first()
    )
    if stocktake is None:
        raise Gone
    lines = list(stocktake.lines.order_by("lot_id"))
    return {**stocktake_payload(stocktake, lines), "at": _utc_text(stocktake.closed_at)}


def register_rederivers() -> None:
    from rendao.ledger.audit_registry import register
    from rendao.ledger.models import EntryKind

    register(EntryKind.GOODS_RECEIVED, goods_received_now)
    register(EntryKind.GOODS_MOVED, goods_moved_now)
    register(EntryKind.STOCKTAKE, stocktake_now)
