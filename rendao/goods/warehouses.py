"""Warehouses (备灾仓库) and moving goods between them.

A warehouse belongs to one branch; GOODS_MANAGE at that branch (which a role at
any ancestor also gives) lets staff create, rename and close it. A closed
warehouse takes no goods (stock.py refuses), but keeps its history and may
still hold stock that is moved out.

A transfer needs GOODS_MANAGE at *both* warehouses' branches: the sender gives
goods away and the receiver takes responsibility for them. Staff of a common
ancestor (the city society moving goods from 思明 to 湖里) hold it at both, so
no special rule for "the common ancestor" is needed: the scope already says it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.goods.models import Lot, Move, StockTake, StockTakeStatus, Warehouse
from rendao.goods.stock import stock_transfer

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}", re.ASCII)
NOTE_MAX = 200


def _snapshot(warehouse: Warehouse) -> dict[str, object]:
    return {
        "code": warehouse.code,
        "name": warehouse.name,
        "address": warehouse.address,
        "is_active": warehouse.is_active,
        "branch": warehouse.branch_id,
    }


def warehouse_code_suggest(branch: Branch) -> str:
    """The next free "CK-<branch id>-NN" code of a branch (a suggestion; any unique code will do)."""
    prefix = f"CK-{branch.pk}-"
    taken = set(Warehouse.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    n = 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


def _clean(*, code: str, name: str, address: str, pk: int | None) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    code = (code or "").strip().upper()
    name = (name or "").strip()
    address = (address or "").strip()
    if not _CODE_RE.fullmatch(code):
        errors["code"] = _("Use 2–32 capital letters, digits and hyphens, e.g. CK-2-01.")
    elif Warehouse.objects.filter(code=code).exclude(pk=pk or 0).exists():
        errors["code"] = _("Another warehouse already has this code.")
    if not name or len(name) > 200:
        errors["name"] = _("Enter the warehouse's name (at most 200 characters).")
    if len(address) > 300:
        errors["address"] = _("The address is at most 300 characters.")
    if errors:
        raise ValidationError(errors)
    return code, name, address


def warehouse_create(
    *,
    actor: User,
    branch: Branch,
    name: str,
    code: str = "",
    address: str = "",
    meta: RequestMeta | None = None,
) -> Warehouse:
    require_perm(actor, Perm.GOODS_MANAGE, branch)
    code, name, address = _clean(
        code=code or warehouse_code_suggest(branch), name=name, address=address, pk=None
    )
    with transaction.atomic():
        warehouse = Warehouse.objects.create(branch=branch, code=code, name=name, address=address)
        audit_record(
            actor=actor,
            action="goods.warehouse_create",
            obj=warehouse,
            branch=branch,
            after=_snapshot(warehouse),
            meta=meta,
        )
    return warehouse


def warehouse_update(
    *,
    actor: User,
    warehouse: Warehouse,
    name: str,
    address: str = "",
    meta: RequestMeta | None = None,
) -> Warehouse:
    """Rename a warehouse or change its address. The code never changes: log entries name it."""
    require_perm(actor, Perm.GOODS_MANAGE, warehouse.branch)
    _code, name, address = _clean(code=warehouse.code, name=name, address=address, pk=warehouse.pk)
    with transaction.atomic():
        locked = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
        before = _snapshot(locked)
        locked.name, locked.address = name, address
        locked.save(update_fields=["name", "address"])
        audit_record(
            actor=actor,
            action="goods.warehouse_update",
            obj=locked,
            branch=locked.branch,
            before=before,
            after=_snapshot(locked),
            meta=meta,
        )
    return locked


def warehouse_close(*, actor: User, warehouse: Warehouse, meta: RequestMeta | None = None) -> Warehouse:
    """Stop a warehouse taking goods. Stock still in it stays, to be moved out or issued."""
    require_perm(actor, Perm.GOODS_MANAGE, warehouse.branch)
    with transaction.atomic():
        locked = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
        if not locked.is_active:
            raise ValidationError(_("This warehouse is already closed."), code="already_closed")
        if StockTake.objects.filter(warehouse=locked, status=StockTakeStatus.OPEN).exists():
            raise ValidationError(_("Close the open stock-take first."), code="stocktake_open")
        before = _snapshot(locked)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="goods.warehouse_close",
            obj=locked,
            branch=locked.branch,
            before=before,
            after=_snapshot(locked),
            meta=meta,
        )
    return locked


def transfer_create(
    *,
    actor: User,
    lot: Lot,
    source: Warehouse,
    target: Warehouse,
    quantity: int,
    note: str = "",
    meta: RequestMeta | None = None,
) -> Move:
    """Move `quantity` of `lot` from `source` to `target` (GOODS_MANAGE at both branches)."""
    require_perm(actor, Perm.GOODS_MANAGE, source.branch)
    require_perm(actor, Perm.GOODS_MANAGE, target.branch)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("The note is at most 200 characters.")})
    with transaction.atomic():
        move = stock_transfer(
            lot=lot,
            source=source,
            target=target,
            quantity=quantity,
            actor=actor,
            reference=f"transfer:{lot.number}",
        )
        audit_record(
            actor=actor,
            action="goods.transfer",
            obj=move,
            branch=source.branch,
            after={
                "lot": lot.number,
                "from": source.code,
                "to": target.code,
                "quantity": move.quantity,
                "note": note,
                "ledger_index": move.ledger_index,
            },
            meta=meta,
        )
    return move
