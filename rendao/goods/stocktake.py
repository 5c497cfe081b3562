"""Stock-takes (盘点): count a warehouse, record every difference, never fix one silently.

Opening a count lists every lot with stock in the warehouse, expecting what the
books say. While it is open no stock moves into or out of the warehouse
(stock.py refuses transfers, issues and write-offs there; new intakes may still
arrive, as new lots are not on the sheet), so the books stand still under the
counters. Closing needs every line counted; it appends one "stocktake" log
entry (the warehouse code, how many lines, how many differ, the signed
shortage and surplus totals — no personal data) and records the differences:

- a shortage stays a shortage on the books until a write-off request, approved
  by two people (rendao.goods.writeoffs), takes it out; StockTakeLine.write_off
  then links it;
- a surplus is recorded for investigation (goods found that the books do not
  know cannot be given a donor or value by the counters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.goods.models import Stock, StockTake, StockTakeLine, StockTakeStatus, Warehouse
from rendao.ledger.models import EntryKind
from rendao.ledger.services import ledger_append

if TYPE_CHECKING:
    from rendao.core.models import User

NOTE_MAX = 300
MAX_COUNT = 2_147_483_647


def stocktake_open(*, actor: User, warehouse: Warehouse, meta: RequestMeta | None = None) -> StockTake:
    require_perm(actor, Perm.GOODS_MANAGE, warehouse.branch)
    try:
        with transaction.atomic():
            locked = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
            if not locked.is_active:
                raise ValidationError(_("This warehouse is closed."), code="warehouse_closed")
            if StockTake.objects.filter(warehouse=locked, status=StockTakeStatus.OPEN).exists():
                raise ValidationError(
                    _("A stock-take of this warehouse is already open."), code="already_open"
                )
            stocktake = StockTake.objects.create(warehouse=locked, started_by=actor)
            # Locking the stock rows before reading them: a move that holds one
            # finishes first and is counted; one that comes later sees this count
            # open and is refused (stock.py).
            rows = list(
                Stock.objects.select_for_update()
                .filter(warehouse=locked, quantity__gt=0)
                .order_by("lot_id")
                .values_list("lot_id", "quantity")
            )
            StockTakeLine.objects.bulk_create(
                [StockTakeLine(stocktake=stocktake, lot_id=lot_id, expected=qty) for lot_id, qty in rows]
            )
            audit_record(
                actor=actor,
                action="goods.stocktake_open",
                obj=stocktake,
                branch=locked.branch,
                after={"warehouse": locked.code, "lines": len(rows)},
                meta=meta,
            )
    except IntegrityError as exc:
        # Two openings at once: the partial unique constraint lets one through.
        raise ValidationError(
            _("A stock-take of this warehouse is already open."), code="already_open"
        ) from exc
    return stocktake


def stocktake_count(
    *,
    actor: User,
    line: StockTakeLine,
    counted: int,
    note: str = "",
    meta: RequestMeta | None = None,
) -> StockTakeLine:
    """Record what was counted on one line (may be corrected until the count is closed)."""
    stocktake = line.stocktake
    require_perm(actor, Perm.GOODS_MANAGE, stocktake.warehouse.branch)
    if not isinstance(counted, int) or isinstance(counted, bool) or not 0 <= counted <= MAX_COUNT:
        raise ValidationError({"counted": _("Enter the number counted: a whole number, zero or more.")})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("The note is at most 300 characters.")})
    with transaction.atomic():
        locked_take = StockTake.objects.select_for_update().get(pk=stocktake.pk)
        if locked_take.status != StockTakeStatus.OPEN:
            raise ValidationError(_("This stock-take is closed."), code="closed")
        locked = StockTakeLine.objects.select_for_update().get(pk=line.pk)
        before = {"counted": locked.counted, "note": locked.note}
        locked.counted = counted
        locked.note = note
        locked.save(update_fields=["counted", "note"])
        audit_record(
            actor=actor,
            action="goods.stocktake_count",
            obj=locked,
            branch=stocktake.warehouse.branch,
            before=before,
            after={"counted": counted, "note": note, "expected": locked.expected},
            meta=meta,
        )
    return locked


def stocktake_totals(lines: list[StockTakeLine]) -> dict[str, int]:
    """The figures a closed count is logged with (also shown on its page)."""
    diffs = [line.counted - line.expected for line in lines if line.counted is not None]
    differing = [diff for diff in diffs if diff]
    return {
        "lines": len(lines),
        "lines_differing": len(differing),
        "expected": sum(line.expected for line in lines),
        "counted": sum(line.counted or 0 for line in lines),
        # Signed: shortages are negative, surpluses positive.
        "shortage": sum(min(diff, 0) for diff in diffs),
        "surplus": sum(max(diff, 0) for diff in diffs),
    }


def stocktake_payload(stocktake: StockTake, lines: list[StockTakeLine]) -> dict[str, object]:
    return {"stocktake": stocktake.pk, "warehouse": stocktake.warehouse.code, **stocktake_totals(lines)}


def stocktake_close(*, actor: User, stocktake: StockTake, meta: RequestMeta | None = None) -> StockTake:
    require_perm(actor, Perm.GOODS_MANAGE, stocktake.warehouse.branch)
    with transaction.atomic():
        locked = StockTake.objects.select_for_update().select_related("warehouse").get(pk=stocktake.pk)
        if locked.status != StockTakeStatus.OPEN:
            raise ValidationError(_("This stock-take is closed already."), code="closed")
        lines = list(locked.lines.order_by("lot_id"))
        uncounted = sum(1 for line in lines if line.counted is None)
        if uncounted:
            raise ValidationError(
                _("%(n)s line(s) are not counted yet; count every line before closing.") % {"n": uncounted},
                code="uncounted",
            )
        now = timezone.now()
        entry = ledger_append(
            kind=EntryKind.STOCKTAKE, payload=stocktake_payload(locked, lines), occurred_at=now
        )
        locked.status = StockTakeStatus.CLOSED
        locked.closed_at = now
        locked.ledger_index = entry.index
        locked.save(update_fields=["status", "closed_at", "ledger_index"])
        audit_record(
            actor=actor,
            action="goods.stocktake_close",
            obj=locked,
            branch=locked.warehouse.branch,
            after={**stocktake_totals(lines), "ledger_index": entry.index},
            meta=meta,
        )
    return locked
