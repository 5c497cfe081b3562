"""Write-offs (报损): expired, damaged or lost goods taken off the books, always by two people.

- `writeoff_request`: staff with GOODS_MANAGE at the warehouse's branch ask to
  write off part of a lot lying in that warehouse (at most what is there now).
  The request goes to the "goods_write_off" flow, whose default (migration
  0004) has two steps whatever the value; the engine refuses one person
  deciding two steps of an item and the requester deciding any, so three
  distinct people take part.
- On the final approval the stock is taken out through `stock.stock_remove`
  (move + "write_off" log entry) inside the engine's transaction. If the goods
  are no longer there (issued or moved meanwhile), the approval fails: the
  engine's transaction rolls back, the approver sees the stock error and the
  write-off stays in approval, to be rejected or withdrawn.
- `writeoff_request_for_stocktake_line`: a stock-take shortage followed up by a
  write-off of the missing quantity (reason "lost"), linked from the line.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.approvals import registry
from rendao.approvals.services import request_submit
from rendao.core.audit import audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope, require_perm, scope_filter
from rendao.goods.models import (
    Lot,
    MoveKind,
    Stock,
    StockTakeLine,
    Warehouse,
    WriteOff,
    WriteOffReason,
    WriteOffStatus,
)
from rendao.goods.stock import stock_remove

if TYPE_CHECKING:
    from rendao.approvals.models import ApprovalRequest
    from rendao.core.audit import RequestMeta
    from rendao.core.models import User

PROCESS_TYPE = "goods_write_off"
PERM = Perm.GOODS_MANAGE

S = WriteOffStatus

TRANSITIONS: dict[tuple[WriteOffStatus, WriteOffStatus], Literal["engine"]] = {
    (S.REQUESTED, S.DONE): "engine",
    (S.REQUESTED, S.REJECTED): "engine",
    (S.REQUESTED, S.WITHDRAWN): "engine",
}


def _in_stock(lot: Lot, warehouse: Warehouse) -> int:
    row = Stock.objects.filter(lot=lot, warehouse=warehouse).first()
    return row.quantity if row else 0


def writeoff_request(
    *,
    actor: User,
    warehouse: Warehouse,
    lot: Lot,
    quantity: int,
    reason: str,
    explanation: str,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> WriteOff:
    """Ask to write off `quantity` of `lot` in `warehouse`; the request goes into approval."""
    require_perm(actor, PERM, warehouse.branch)
    errors: dict[str, str] = {}
    if reason not in WriteOffReason.values:
        errors["reason"] = _("Choose why the goods are written off: expired, damaged or lost.")
    explanation = (explanation or "").strip()
    if not explanation or len(explanation) > 500:
        errors["explanation"] = _("Explain what happened (at most 500 characters).")
    if type(quantity) is not int or quantity <= 0:
        errors["quantity"] = _("The quantity must be a whole number above zero.")
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    with transaction.atomic():
        have = _in_stock(lot, warehouse)
        if quantity > have:
            raise ValidationError(
                {
                    "quantity": _("Only %(available)s %(unit)s of lot %(lot)s are in %(warehouse)s.")
                    % {"available": have, "unit": lot.unit, "lot": lot.number, "warehouse": warehouse.name}
                }
            )
        writeoff = WriteOff.objects.create(
            number=f"tmp-{secrets.token_hex(8)}",
            branch=warehouse.branch,
            warehouse=warehouse,
            lot=lot,
            quantity=quantity,
            reason=reason,
            explanation=explanation,
            requested_by=actor,
            requested_at=now,
        )
        writeoff.number = f"HX-{timezone.localdate(now).year}-{writeoff.pk:06d}"
        writeoff.save(update_fields=["number"])
        audit_record(
            actor=actor,
            action="goods.writeoff.request",
            obj=writeoff,
            branch=writeoff.branch,
            after={
                "number": writeoff.number,
                "warehouse": warehouse.code,
                "lot": lot.number,
                "quantity": quantity,
                "reason": reason,
            },
            meta=meta,
        )
        writeoff.approval_request = request_submit(
            actor=actor, process_type=PROCESS_TYPE, obj=writeoff, meta=meta, now=now
        )
        writeoff.save(update_fields=["approval_request"])
    return writeoff


def writeoff_request_for_stocktake_line(
    *, actor: User, line: StockTakeLine, meta: RequestMeta | None = None, now: datetime | None = None
) -> WriteOff:
    """Follow up a counted shortage of a stock-take line with a write-off ("lost") of the missing units."""
    with transaction.atomic():
        locked = (
            StockTakeLine.objects.select_for_update(of=("self",))
            .select_related("stocktake__warehouse", "lot")
            .get(pk=line.pk)
        )
        if locked.write_off_id is not None:
            raise ValidationError(_("A write-off has already been requested for this line."))
        if locked.counted is None or locked.counted >= locked.expected:
            raise ValidationError(_("Only a line counted short can be written off."))
        missing = locked.expected - locked.counted
        writeoff = writeoff_request(
            actor=actor,
            warehouse=locked.stocktake.warehouse,
            lot=locked.lot,
            quantity=missing,
            reason=WriteOffReason.LOST,
            explanation=(
                _("Missing at the stock-take of %(date)s: %(missing)s %(unit)s.")
                % {
                    "date": timezone.localdate(locked.stocktake.started_at).isoformat(),
                    "missing": missing,
                    "unit": locked.lot.unit,
                }
            )[:500],
            meta=meta,
            now=now,
        )
        locked.write_off = writeoff
        locked.save(update_fields=["write_off"])
    line.write_off = writeoff
    return writeoff


# --- approval callbacks ------------------------------------------------------------------------


def _locked(writeoff: WriteOff) -> WriteOff:
    return (
        WriteOff.objects.select_for_update(of=("self",))
        .select_related("warehouse", "lot", "branch")
        .get(pk=writeoff.pk)
    )


def _move(writeoff: WriteOff, to: WriteOffStatus) -> None:
    if (WriteOffStatus(writeoff.status), to) not in TRANSITIONS:
        raise ValidationError(
            _("A write-off that is “%(frm)s” cannot become “%(to)s”.")
            % {"frm": WriteOffStatus(writeoff.status).label, "to": to.label}
        )
    writeoff.status = to


def _approved(writeoff: WriteOff, request: ApprovalRequest) -> None:
    locked = _locked(writeoff)
    _move(locked, S.DONE)
    # The last approver is the actor of the move: they took the decision that removed the goods.
    decider = request.decisions.order_by("-decided_at", "-id").select_related("decided_by").first()
    actor = decider.decided_by if decider is not None else locked.requested_by
    # Re-checked here under the lot lock: stock_remove raises if the goods are gone,
    # which rolls back the engine's decision too.
    locked.move = stock_remove(
        kind=MoveKind.WRITE_OFF,
        lot=locked.lot,
        warehouse=locked.warehouse,
        quantity=locked.quantity,
        actor=actor,
        reference=f"write_off:{locked.number}",
        extra={"write_off": locked.number, "reason": locked.reason},
        # The move and its log entry carry the same moment (the audit compares them).
        at=timezone.now(),
    )
    locked.save(update_fields=["status", "move"])
    audit_record(
        actor=None,
        actor_label="approvals",
        action="goods.writeoff.done",
        obj=locked,
        branch=locked.branch,
        before={"status": S.REQUESTED},
        after={"status": S.DONE, "move": locked.move.pk, "approval_request": request.pk},
    )


def _ended(to: WriteOffStatus) -> registry.Callback:
    def callback(writeoff: WriteOff, request: ApprovalRequest) -> None:
        locked = _locked(writeoff)
        _move(locked, to)
        locked.save(update_fields=["status"])
        audit_record(
            actor=None,
            actor_label="approvals",
            action=f"goods.writeoff.{to}",
            obj=locked,
            branch=locked.branch,
            before={"status": S.REQUESTED},
            after={"status": to, "approval_request": request.pk},
        )

    return callback


def _writeoff_url(writeoff: WriteOff) -> str:
    return reverse("goods_distribution:writeoff_detail", args=[writeoff.pk])


def register_process_type() -> None:
    """Called from GoodsConfig.ready(); the default two-step flow is seeded by migration 0004."""
    registry.register(
        registry.ProcessType(
            key=PROCESS_TYPE,
            label=gettext_lazy("Goods write-off"),
            model=WriteOff,
            branch_of=lambda w: w.branch,
            amount_of=lambda w: w.lot.unit_value_fen * w.quantity,
            title_of=lambda w: f"{w.number} {w.lot.item_name} × {w.quantity}",
            on_approved=_approved,
            on_rejected=_ended(S.REJECTED),
            on_withdrawn=_ended(S.WITHDRAWN),
            url_of=_writeoff_url,
        )
    )


# --- reads ---------------------------------------------------------------------------------------


def writeoffs_for(user: User) -> QuerySet[WriteOff]:
    """Write-offs of the branches where `user` may see goods, newest first."""
    qs = WriteOff.objects.select_related("warehouse", "lot", "branch")
    return scope_filter(qs, user=user, perm=Perm.GOODS_VIEW)


def writeoff_get_for(*, user: User, pk: object) -> WriteOff:
    """One write-off within the user's GOODS_VIEW scope, or Http404."""
    qs = WriteOff.objects.select_related(
        "warehouse", "lot", "branch", "approval_request", "requested_by", "move"
    )
    return get_in_scope(qs, user=user, perm=Perm.GOODS_VIEW, pk=pk)
