"""Reads of the goods pages and API: always through the user's GOODS_VIEW scope.

Out of scope looks absent (Http404). A warehouse is in scope by its branch; an
intake by its branch; a lot by its intake's branch or by any warehouse that
holds some of it (goods moved to 湖里 are 湖里's to see).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope, path_q, scope_filter, scope_paths
from rendao.goods.models import GoodsReceipt, Intake, Lot, Move, Stock, StockTake, StockTakeLine, Warehouse

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

    Someone = User | AnonymousUser

STOCK_PER_PAGE = 50


def warehouses_for_staff(*, user: Someone, active_only: bool = False) -> QuerySet[Warehouse]:
    """Warehouses in scope with their totals: units in stock, lots held, estimated value (fen)."""
    qs = scope_filter(Warehouse.objects.select_related("branch"), user=user, perm=Perm.GOODS_VIEW)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.annotate(
        units=Sum("stock__quantity", default=0),
        value_fen=Sum(F("stock__quantity") * F("stock__lot__unit_value_fen"), default=0),
    ).order_by("code")


def warehouses_to_manage(*, user: Someone) -> QuerySet[Warehouse]:
    """Open warehouses where the user may receive and move goods."""
    return scope_filter(
        Warehouse.objects.filter(is_active=True).select_related("branch"), user=user, perm=Perm.GOODS_MANAGE
    ).order_by("code")


def warehouse_get_for_staff(*, user: Someone, pk: int | str, perm: Perm = Perm.GOODS_VIEW) -> Warehouse:
    return get_in_scope(Warehouse.objects.select_related("branch"), user=user, perm=perm, pk=pk)


@dataclass(frozen=True)
class StockPage:
    rows: list[Stock]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def stock_in_warehouse(
    *, warehouse: Warehouse, item: str = "", expiring_within_days: int | None = None
) -> QuerySet[Stock]:
    """Stock rows of `warehouse` holding something, earliest expiry first (no expiry last)."""
    qs = Stock.objects.filter(warehouse=warehouse, quantity__gt=0).select_related("lot")
    if item:
        qs = qs.filter(lot__item_name__icontains=item)
    if expiring_within_days is not None:
        until = timezone.localdate() + datetime.timedelta(days=expiring_within_days)
        qs = qs.filter(lot__expires_on__lte=until)
    return qs.order_by(F("lot__expires_on").asc(nulls_last=True), "lot_id")


def stock_page(
    *, warehouse: Warehouse, page: int, item: str = "", expiring_within_days: int | None = None
) -> StockPage:
    """One page of a warehouse's stock in ONE query, however many lots it holds.

    No COUNT: with 100,000 lots a count of the filtered join costs as much as
    the page itself, and the page needs only "is there a next one", which one
    extra row answers.
    """
    if page < 1:
        raise Http404(_("That page number is not valid."))
    start = (page - 1) * STOCK_PER_PAGE
    qs = stock_in_warehouse(warehouse=warehouse, item=item, expiring_within_days=expiring_within_days)
    rows = list(qs[start : start + STOCK_PER_PAGE + 1])
    return StockPage(rows=rows[:STOCK_PER_PAGE], number=page, has_next=len(rows) > STOCK_PER_PAGE)


def lots_for_staff(*, user: Someone) -> QuerySet[Lot]:
    paths = scope_paths(user, Perm.GOODS_VIEW)
    if not paths:
        return Lot.objects.none()
    held_here = Stock.objects.filter(path_q(paths, "warehouse__branch"), lot=OuterRef("pk"), quantity__gt=0)
    return Lot.objects.filter(path_q(paths, "intake__branch") | Q(Exists(held_here)))


def lot_get_for_staff(*, user: Someone, pk: int | str) -> Lot:
    try:
        return lots_for_staff(user=user).select_related("intake", "intake__warehouse").get(pk=pk)
    except (Lot.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


def lot_moves(lot: Lot) -> list[Move]:
    return list(lot.moves.select_related("from_warehouse", "to_warehouse", "actor").order_by("id"))


def lot_stock(lot: Lot) -> list[Stock]:
    return list(lot.stock.filter(quantity__gt=0).select_related("warehouse").order_by("warehouse__code"))


def intakes_for_staff(*, user: Someone, warehouse: Warehouse | None = None) -> QuerySet[Intake]:
    qs = scope_filter(
        Intake.objects.select_related("warehouse", "project", "receipt"), user=user, perm=Perm.GOODS_VIEW
    )
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return qs.order_by("-received_on", "-id")


def intake_get_for_staff(*, user: Someone, pk: int | str) -> Intake:
    qs = Intake.objects.select_related("warehouse", "branch", "project", "need", "received_by")
    return get_in_scope(qs, user=user, perm=Perm.GOODS_VIEW, pk=pk)


def intake_receipt(intake: Intake) -> GoodsReceipt | None:
    return GoodsReceipt.objects.filter(intake=intake).first()


def stocktakes_for_warehouse(warehouse: Warehouse) -> list[StockTake]:
    return list(warehouse.stocktakes.order_by("-started_at", "-id")[:20])


def stocktake_get_for_staff(*, user: Someone, pk: int | str, perm: Perm = Perm.GOODS_VIEW) -> StockTake:
    qs = StockTake.objects.select_related("warehouse", "warehouse__branch", "started_by")
    return get_in_scope(qs, user=user, perm=perm, field="warehouse__branch", pk=pk)


def stocktake_lines(stocktake: StockTake) -> list[StockTakeLine]:
    return list(stocktake.lines.select_related("lot", "write_off").order_by("lot__item_name", "lot_id"))


def goods_receipt_for_verify(*, number: str, check: str) -> GoodsReceipt | None:
    """Public: the goods receipt with this number and check code, or None."""
    return (
        GoodsReceipt.objects.select_related("intake", "intake__project")
        .filter(number=number, check_code=check.upper()[:16])
        .first()
    )
