"""Re-deriving the issue, write-off and goods sign-off leaves from their rows (`ledger_audit`).

- "goods_issued": the move with the leaf's index of the lot it names, and the
  order whose pick it is (order number, institution, project).
- "write_off": the move with the leaf's index, and the write-off linked to it.
- "recipient_signoff" of a goods order (payload key "order"): the order's
  sign-off and its picks. Disbursement sign-offs log the same kind with the key
  "disbursement"; only one re-deriver may be registered per kind, so
  the registered one dispatches on the key: goods leaves here, the others to
  the re-deriver registered before ours (the disbursements app's), if any.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rendao.goods.distribution import signoff_payload
from rendao.goods.models import DistributionOrder, Lot, Move, MoveKind, OrderSignoff, Pick, WriteOff
from rendao.ledger.audit_registry import Gone, Rederiver


def _utc_text(moment: datetime | None) -> str | None:
    # The log's own rendering of a time (rendao.ledger.services).
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _move_payload(move: Move) -> dict[str, object]:
    """The payload stock._leaf writes for an issue or write-off move, without the extra keys."""
    lot = move.lot
    payload: dict[str, object] = {
        "lot": lot.number,
        "item": lot.item_name,
        "specification": lot.specification,
        "unit": lot.unit,
        "quantity": move.quantity,
        "value_fen": lot.unit_value_fen * move.quantity,
        "reference": move.reference,
        "at": _utc_text(move.at),
    }
    if move.from_warehouse is not None:
        payload["from"] = move.from_warehouse.code
    return payload


def _move_for(logged: Mapping[str, object], kind: str) -> Move:
    number = logged.get("lot")
    index = logged.get("index")
    if not isinstance(number, str) or type(index) is not int:
        raise Gone
    lot = Lot.objects.filter(number=number).first()
    if lot is None:
        raise Gone
    move = (
        Move.objects.select_related("from_warehouse").filter(lot=lot, ledger_index=index, kind=kind).first()
    )
    if move is None:
        raise Gone
    move.lot = lot
    return move


def goods_issued_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """The "goods_issued" payload of the pick logged at this index (with its order's keys)."""
    move = _move_for(logged, MoveKind.ISSUE)
    pick = Pick.objects.select_related("line__order__recipient").filter(move=move).first()
    if pick is None:
        raise Gone
    order = pick.line.order
    return {
        **_move_payload(move),
        "order": order.number,
        "recipient": order.recipient.name,
        "project": order.project_id,
    }


def write_off_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """The "write_off" payload of the write-off whose move was logged at this index."""
    move = _move_for(logged, MoveKind.WRITE_OFF)
    writeoff = WriteOff.objects.filter(move=move).first()
    if writeoff is None:
        raise Gone
    return {**_move_payload(move), "write_off": writeoff.number, "reason": writeoff.reason}


def goods_signoff_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """The "recipient_signoff" payload of the goods order `logged["order"]`."""
    number = logged.get("order")
    if not isinstance(number, str):
        raise Gone
    order = DistributionOrder.objects.select_related("recipient").filter(number=number).first()
    if order is None:
        raise Gone
    signoff = OrderSignoff.objects.filter(order=order).first()
    if signoff is None or signoff.ledger_index != logged.get("index"):
        raise Gone
    payload = signoff_payload(order, signoff.shortfall, signoff.by_staff_upload)
    return {**payload, "at": _utc_text(signoff.at)}


def _signoff_dispatch(other: Rederiver | None) -> Rederiver:
    def rederive(logged: Mapping[str, object]) -> Mapping[str, object]:
        if "order" in logged:
            return goods_signoff_now(logged)
        if other is None:
            raise Gone
        return other(logged)

    return rederive


def register_rederivers() -> None:
    """Called from GoodsConfig.ready().

    "recipient_signoff" is shared with the disbursements app, whose dispatcher
    may already be registered (it hands on leaves that name no disbursement to
    the one registered before it): ours goes in front and hands on the leaves
    that name no order, whichever app's ready() ran first.
    """
    from rendao.ledger import audit_registry
    from rendao.ledger.models import EntryKind

    audit_registry.register(EntryKind.GOODS_ISSUED, goods_issued_now)
    audit_registry.register(EntryKind.WRITE_OFF, write_off_now)
    previous = audit_registry.rederiver_for(EntryKind.RECIPIENT_SIGNOFF)
    if previous is not None and getattr(previous, "_goods", False):
        return  # ready() ran twice (tests): already ours
    combined = _signoff_dispatch(previous)
    combined._goods = True  # type: ignore[attr-defined]
    # Replace rather than register(): the registry refuses a second re-deriver of a kind.
    audit_registry._REGISTRY[EntryKind.RECIPIENT_SIGNOFF] = combined
