"""The staff API of distribution orders and write-offs: /api/v1/staff/goods/orders and /write-offs.

The same access functions and services as the pages, so the same rules: a
record out of the caller's GOODS_VIEW scope is a 404; a write needs
GOODS_MANAGE at the record's branch (403, nothing changed); input the schema
or a service refuses is 422 with the reason. Approval itself goes through
/api/v1/approvals like every other item.
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
from pydantic import StrictInt

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope
from rendao.funds.models import FundraisingProject
from rendao.goods import distribution, writeoffs
from rendao.goods.models import (
    DistributionOrder,
    Lot,
    OrderStatus,
    Pick,
    Warehouse,
    WriteOff,
    WriteOffReason,
    WriteOffStatus,
)
from rendao.recipients.models import Institution, Need

orders_router = Router(tags=["staff goods distribution"])
writeoffs_router = Router(tags=["staff goods write-offs"])


# --- schemas -------------------------------------------------------------------------------------


class LineIn(Schema):
    item_name: str = Field(min_length=1, max_length=100)
    specification: str = Field("", max_length=100)
    unit: str = Field(min_length=1, max_length=20)
    quantity: StrictInt = Field(gt=0, description="Whole units of the item's unit.")


class OrderIn(Schema):
    warehouse_id: StrictInt
    recipient_id: StrictInt = Field(description="A recipient institution's id.")
    project_id: StrictInt | None = Field(None, description="The fundraising project the goods are used for.")
    need_id: StrictInt | None = Field(None, description="An open need of the recipient the order answers.")
    purpose: str = Field(min_length=1, max_length=300)
    lines: list[LineIn] = Field(min_length=1, max_length=50)


class PickIn(Schema):
    line_id: StrictInt
    lot_id: StrictInt
    quantity: StrictInt = Field(gt=0)


class IssueIn(Schema):
    picks: list[PickIn] | None = Field(
        None, description="Explicit picks covering every line exactly; omitted: earliest expiry first (FEFO)."
    )


class LineOut(Schema):
    id: int
    item_name: str
    specification: str
    unit: str
    quantity: int


class PickOut(Schema):
    id: int
    line_id: int
    lot: str = Field(description="The lot number.")
    expires_on: date | None
    quantity: int
    quantity_received: int | None

    @staticmethod
    def resolve_lot(obj: Pick) -> str:
        return obj.lot.number

    @staticmethod
    def resolve_expires_on(obj: Pick) -> date | None:
        return obj.lot.expires_on


class OrderOut(Schema):
    id: int
    number: str
    status: OrderStatus
    branch_id: int
    warehouse: str = Field(description="The warehouse code.")
    recipient_id: int
    recipient: str = Field(description="The institution's name.")
    project_id: int | None
    need_id: int | None
    purpose: str
    value_fen: int = Field(
        description="Estimated value, whole fen: from the lots at request, the picks at issue."
    )
    requested_at: datetime
    issued_at: datetime | None
    approval_request_id: int | None

    @staticmethod
    def resolve_warehouse(obj: DistributionOrder) -> str:
        return obj.warehouse.code

    @staticmethod
    def resolve_recipient(obj: DistributionOrder) -> str:
        return obj.recipient.name


class OrderDetailOut(OrderOut):
    lines: list[LineOut]
    picks: list[PickOut]

    @staticmethod
    def resolve_lines(obj: DistributionOrder) -> list[object]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_picks(obj: DistributionOrder) -> list[Pick]:
        return distribution.picks_of(obj)


class OrderFilter(Schema):
    status: OrderStatus | None = None


class WriteOffIn(Schema):
    warehouse_id: StrictInt
    lot_id: StrictInt
    quantity: StrictInt = Field(gt=0)
    reason: WriteOffReason
    explanation: str = Field(min_length=1, max_length=500)


class WriteOffOut(Schema):
    id: int
    number: str
    status: WriteOffStatus
    branch_id: int
    warehouse: str = Field(description="The warehouse code.")
    lot: str = Field(description="The lot number.")
    quantity: int
    reason: WriteOffReason
    explanation: str
    requested_at: datetime
    approval_request_id: int | None
    ledger_index: int | None = Field(description="The write-off's log entry, once done.")

    @staticmethod
    def resolve_warehouse(obj: WriteOff) -> str:
        return obj.warehouse.code

    @staticmethod
    def resolve_lot(obj: WriteOff) -> str:
        return obj.lot.number

    @staticmethod
    def resolve_ledger_index(obj: WriteOff) -> int | None:
        return obj.move.ledger_index if obj.move is not None else None


# --- helpers -------------------------------------------------------------------------------------


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _warehouse(user: User, pk: int) -> Warehouse:
    return get_in_scope(Warehouse.objects.select_related("branch"), user=user, perm=Perm.GOODS_VIEW, pk=pk)


def _unknown(field: str, what: str) -> ValidationError:
    return ValidationError({field: _("Unknown %(what)s.") % {"what": what}})


# --- orders --------------------------------------------------------------------------------------


@orders_router.get(
    "", response={200: list[OrderOut], **errors(401, 422)}, summary="Distribution orders in my scope"
)
@paginate(Pagination)
def order_list(request: HttpRequest, filters: Query[OrderFilter]) -> QuerySet[DistributionOrder]:
    """Orders of the branches where I hold goods.view, newest first."""
    orders = distribution.orders_for(_caller(request))
    if filters.status is not None:
        orders = orders.filter(status=filters.status)
    return orders


@orders_router.get("/{int:pk}", response={200: OrderDetailOut, **errors(401, 404)}, summary="One order")
def order_detail(request: HttpRequest, pk: int) -> DistributionOrder:
    return distribution.order_get_for(user=_caller(request), pk=pk)


@orders_router.post(
    "", response={201: OrderDetailOut, **errors(401, 403, 404, 422)}, summary="Request a distribution order"
)
def order_create(request: HttpRequest, body: OrderIn) -> Status[DistributionOrder]:
    """201: the order, in approval. 422: not in stock (the message names the item and what is
    available), an inactive or out-of-scope recipient, a need of another institution.
    403: no goods.manage at the warehouse's branch."""
    user = _caller(request)
    warehouse = _warehouse(user, body.warehouse_id)
    recipient = Institution.objects.select_related("branch").filter(pk=body.recipient_id).first()
    if recipient is None:
        raise _unknown("recipient_id", _("institution"))
    project = None
    if body.project_id is not None:
        project = FundraisingProject.objects.filter(pk=body.project_id).first()
        if project is None:
            raise _unknown("project_id", _("project"))
    need = None
    if body.need_id is not None:
        need = Need.objects.filter(pk=body.need_id).first()
        if need is None:
            raise _unknown("need_id", _("need"))
    order = distribution.order_request(
        actor=user,
        warehouse=warehouse,
        recipient=recipient,
        project=project,
        need=need,
        purpose=body.purpose,
        lines=[(x.item_name, x.specification, x.unit, x.quantity) for x in body.lines],
        meta=RequestMeta.from_request(request),
    )
    return Status(201, order)


@orders_router.post(
    "/{int:pk}/issue",
    response={200: OrderDetailOut, **errors(401, 403, 404, 422)},
    summary="Issue an approved order",
)
def order_issue(request: HttpRequest, pk: int, body: IssueIn) -> DistributionOrder:
    """All picks or none: 422 when not approved, when stock is short, or when explicit picks are
    wrong (another item, an expired lot, not adding up to the line)."""
    user = _caller(request)
    order = distribution.order_get_for(user=user, pk=pk)
    picks = None if body.picks is None else [(p.line_id, p.lot_id, p.quantity) for p in body.picks]
    return distribution.order_issue(
        actor=user, order=order, picks=picks, meta=RequestMeta.from_request(request)
    )


# --- write-offs ----------------------------------------------------------------------------------


@writeoffs_router.get(
    "", response={200: list[WriteOffOut], **errors(401, 422)}, summary="Write-offs in my scope"
)
@paginate(Pagination)
def writeoff_list(request: HttpRequest) -> QuerySet[WriteOff]:
    return writeoffs.writeoffs_for(_caller(request)).select_related("move")


@writeoffs_router.get("/{int:pk}", response={200: WriteOffOut, **errors(401, 404)}, summary="One write-off")
def writeoff_detail(request: HttpRequest, pk: int) -> WriteOff:
    return writeoffs.writeoff_get_for(user=_caller(request), pk=pk)


@writeoffs_router.post(
    "", response={201: WriteOffOut, **errors(401, 403, 404, 422)}, summary="Request a write-off"
)
def writeoff_create(request: HttpRequest, body: WriteOffIn) -> Status[WriteOff]:
    """201: in approval (two distinct approvers, neither the requester). 422: more than lies in
    the warehouse, bad input. 403: no goods.manage at the warehouse's branch."""
    user = _caller(request)
    warehouse = _warehouse(user, body.warehouse_id)
    lot = Lot.objects.filter(pk=body.lot_id).first()
    if lot is None:
        raise _unknown("lot_id", _("lot"))
    writeoff = writeoffs.writeoff_request(
        actor=user,
        warehouse=warehouse,
        lot=lot,
        quantity=body.quantity,
        reason=body.reason,
        explanation=body.explanation,
        meta=RequestMeta.from_request(request),
    )
    return Status(201, writeoff)
