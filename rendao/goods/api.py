"""The staff goods router, /api/v1/staff/goods: warehouses, stock, intakes, transfers.

The same selectors and services as the pages, so the same rules: anything out
of the caller's GOODS_VIEW scope is a 404; a write needs GOODS_MANAGE (403
otherwise, nothing changed); bad input is a 422 naming the field.
A warehouse's stock is paged by `page` (50 rows) with `has_next` instead of a
total count, so a page costs the same with 100,000 lots.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import StrictBool, StrictInt

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.funds.models import FundraisingProject
from rendao.goods import selectors
from rendao.goods.intake import IntakeLine, intake_record
from rendao.goods.models import DonorKind, Intake, Move, MoveKind, Stock, Warehouse
from rendao.goods.warehouses import transfer_create

router = Router(tags=["staff goods"])


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    branch_id: int
    is_active: bool
    units: int = Field(description="Units of all lots in stock here.")
    value_fen: int = Field(description="Estimated value of the stock, whole fen.")


class StockRowOut(Schema):
    lot_id: int
    lot: str
    item_name: str
    specification: str
    unit: str
    quantity: int
    expires_on: date | None

    @staticmethod
    def resolve_lot(obj: Stock) -> str:
        return obj.lot.number

    @staticmethod
    def resolve_item_name(obj: Stock) -> str:
        return obj.lot.item_name

    @staticmethod
    def resolve_specification(obj: Stock) -> str:
        return obj.lot.specification

    @staticmethod
    def resolve_unit(obj: Stock) -> str:
        return obj.lot.unit

    @staticmethod
    def resolve_expires_on(obj: Stock) -> date | None:
        return obj.lot.expires_on


class StockPageOut(Schema):
    items: list[StockRowOut]
    page: int
    has_next: bool


class StockFilter(Schema):
    page: int = Field(1, ge=1, le=100_000)
    item: str = Field("", max_length=100)
    expiring_within_days: int | None = Field(None, ge=0, le=3650)


class LotOut(Schema):
    id: int
    number: str
    item_name: str
    specification: str
    unit: str
    batch: str
    expires_on: date | None
    unit_value_fen: int
    quantity_received: int
    quantity_on_hand: int
    quantity_issued: int
    quantity_written_off: int


class IntakeOut(Schema):
    id: int
    number: str
    warehouse_id: int
    branch_id: int
    project_id: int | None
    donor_kind: DonorKind
    public_name: str = Field(description="The organisation, a masked name, or 爱心人士.")
    commitment: str
    value_fen: int
    received_on: date
    receipt_wanted: bool
    receipt_number: str | None
    ledger_index: int | None
    created_at: datetime

    @staticmethod
    def resolve_receipt_number(obj: Intake) -> str | None:
        receipt = getattr(obj, "receipt", None)
        return receipt.number if receipt is not None else None


class IntakeDetailOut(IntakeOut):
    lots: list[LotOut]

    @staticmethod
    def resolve_lots(obj: Intake) -> list[object]:
        return list(obj.lots.order_by("id"))


class IntakeLineIn(Schema):
    item_name: str = Field(max_length=100)
    specification: str = Field("", max_length=100)
    unit: str = Field(max_length=20)
    quantity: StrictInt = Field(description="Whole units, more than zero.")
    unit_value_fen: StrictInt = Field(0, description="Estimated value of one unit, whole fen.")
    batch: str = Field("", max_length=64)
    expires_on: date | None = None


class IntakeIn(Schema):
    warehouse: StrictInt
    donor_kind: DonorKind
    organisation_name: str = Field("", max_length=200)
    donor_name: str = Field("", max_length=100, description="A person's name: sealed, shown masked.")
    donor_mobile: str = Field("", max_length=32)
    project: StrictInt | None = None
    received_on: date | None = None
    receipt_wanted: StrictBool = True
    lines: list[IntakeLineIn] = Field(min_length=1, max_length=200)


class TransferIn(Schema):
    lot: StrictInt
    source: StrictInt = Field(description="Warehouse id the goods leave.")
    target: StrictInt = Field(description="Warehouse id the goods go to.")
    quantity: StrictInt
    note: str = Field("", max_length=200)


class MoveOut(Schema):
    id: int
    kind: MoveKind
    lot_id: int
    from_warehouse_id: int | None
    to_warehouse_id: int | None
    quantity: int
    reference: str
    at: datetime
    ledger_index: int


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _warehouse(user: User, pk: int, perm: Perm = Perm.GOODS_VIEW) -> Warehouse:
    return selectors.warehouse_get_for_staff(user=user, pk=pk, perm=perm)


@router.get(
    "/warehouses", response={200: list[WarehouseOut], **errors(401)}, summary="Warehouses in my scope"
)
def goods_warehouse_list(request: HttpRequest) -> list[Warehouse]:
    return list(selectors.warehouses_for_staff(user=_caller(request)))


@router.get(
    "/warehouses/{warehouse_id}/stock",
    response={200: StockPageOut, **errors(401, 404, 422)},
    summary="A warehouse's stock, earliest expiry first",
)
def goods_stock(request: HttpRequest, warehouse_id: int, filters: Query[StockFilter]) -> dict[str, object]:
    warehouse = _warehouse(_caller(request), warehouse_id)
    page = selectors.stock_page(
        warehouse=warehouse,
        page=filters.page,
        item=filters.item.strip(),
        expiring_within_days=filters.expiring_within_days,
    )
    return {"items": page.rows, "page": page.number, "has_next": page.has_next}


@router.get("/intakes", response={200: list[IntakeOut], **errors(401, 422)}, summary="Intakes in my scope")
@paginate(Pagination)
def goods_intake_list(request: HttpRequest) -> QuerySet[Intake]:
    return selectors.intakes_for_staff(user=_caller(request))


@router.get("/intakes/{intake_id}", response={200: IntakeDetailOut, **errors(401, 404)}, summary="One intake")
def goods_intake_detail(request: HttpRequest, intake_id: int) -> Intake:
    return selectors.intake_get_for_staff(user=_caller(request), pk=intake_id)


@router.post(
    "/intakes",
    response={201: IntakeDetailOut, **errors(401, 403, 404, 422)},
    summary="Record goods received (lots, stock, log entries, receipt)",
)
def goods_intake_create(request: HttpRequest, body: IntakeIn) -> Status[Intake]:
    """403 without goods.manage at the warehouse's branch; 404 for a warehouse or
    project out of view; 422 for bad lines (each named), expired goods, a bad mobile."""
    user = _caller(request)
    warehouse = _warehouse(user, body.warehouse)
    project = None
    if body.project is not None:
        # The service decides whether this project may take goods here (open, and
        # run by the warehouse's branch or above, or in the caller's view).
        project = FundraisingProject.objects.select_related("branch").filter(pk=body.project).first()
        if project is None:
            raise ValidationError({"project": _("No such fundraising project.")})
    intake = intake_record(
        actor=user,
        warehouse=warehouse,
        donor_kind=body.donor_kind,
        organisation_name=body.organisation_name,
        donor_name=body.donor_name,
        donor_mobile=body.donor_mobile,
        project=project,
        received_on=body.received_on,
        receipt_wanted=body.receipt_wanted,
        lines=[IntakeLine(**line.dict()) for line in body.lines],
        meta=RequestMeta.from_request(request),
    )
    return Status(201, intake)


@router.post(
    "/transfers",
    response={201: MoveOut, **errors(401, 403, 404, 422)},
    summary="Move part of a lot to another warehouse",
)
def goods_transfer_create(request: HttpRequest, body: TransferIn) -> Status[Move]:
    """403 without goods.manage at both warehouses' branches; 422 for too much, the same
    warehouse, a closed one, or one being counted."""
    user = _caller(request)
    lot = selectors.lot_get_for_staff(user=user, pk=body.lot)
    source = _warehouse(user, body.source)
    target = _warehouse(user, body.target)
    move = transfer_create(
        actor=user,
        lot=lot,
        source=source,
        target=target,
        quantity=body.quantity,
        note=body.note,
        meta=RequestMeta.from_request(request),
    )
    return Status(201, move)
