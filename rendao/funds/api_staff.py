"""The staff donations router: donations in finance scope, and refunds.

The same selectors and services as the pages, so the same rules: a donation out
of the caller's FINANCE_VIEW scope is a 404; a refund needs FINANCE_MANAGE at the
donation's branch (403 otherwise, nothing changed); a refund is idempotent by its
`out_refund_no`: the same number, donation and amount answer the existing refund
(200), a new one is 201, the same number for anything else is 422.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import StrictInt

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.funds import selectors_donations as selectors
from rendao.funds.models import Donation, DonationStatus, FundraisingProject, Refund, RefundStatus
from rendao.funds.refunds import refund_request_outcome

router = Router(tags=["staff donations"])


class StaffDonationOut(Schema):
    id: int
    out_trade_no: str
    project_id: int
    project_title: str
    branch_id: int
    channel: str
    amount_fen: int = Field(description="Whole fen (1 yuan = 100 fen).")
    refunded_fen: int
    status: DonationStatus
    public_name: str = Field(description="As the public pages show the donor: masked, or 爱心人士.")
    refund_flagged: bool = Field(description="Money that arrived after the order had closed: to refund.")
    created_at: datetime
    paid_at: datetime | None
    ledger_index: int | None
    receipt_number: str | None

    @staticmethod
    def resolve_project_title(obj: Donation) -> str:
        return obj.project.title

    @staticmethod
    def resolve_receipt_number(obj: Donation) -> str | None:
        receipt = getattr(obj, "receipt", None)
        return receipt.number if receipt is not None else None


class DonationFilter(Schema):
    project: int | None = Field(None, description="A project id.")
    status: DonationStatus | None = None
    channel: str | None = Field(None, max_length=32)
    flagged: bool = Field(False, description="Only late payments held for refund.")


class RefundIn(Schema):
    out_refund_no: str = Field(
        max_length=64, description="Your refund number: 1–64 of [0-9A-Za-z_-|*@]; the idempotency key."
    )
    amount_fen: StrictInt = Field(description="Whole fen, more than zero, at most what is left to refund.")
    reason: str = Field(max_length=200)


class RefundOut(Schema):
    id: int
    out_refund_no: str
    donation: str = Field(description="The donation's out_trade_no.")
    amount_fen: int
    reason: str
    status: RefundStatus = Field(
        description="requested / processing: the channel is still to confirm (asked again every minute)."
    )
    failure_reason: str
    created_at: datetime
    completed_at: datetime | None
    ledger_index: int | None

    @staticmethod
    def resolve_donation(obj: Refund) -> str:
        return obj.donation.out_trade_no


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get("", response={200: list[StaffDonationOut], **errors(401, 422)}, summary="Donations in my scope")
@paginate(Pagination)
def staff_donation_list(request: HttpRequest, filters: Query[DonationFilter]) -> QuerySet[Donation]:
    """Donations of the branches where I hold finance.view, newest first."""
    user = _caller(request)
    project = None
    if filters.project is not None:
        project = FundraisingProject.objects.filter(pk=filters.project).first()
        if project is None:
            return Donation.objects.none()
    return selectors.donations_for_staff(
        user=user,
        project=project,
        status=filters.status or "",
        channel=filters.channel or "",
        flagged=filters.flagged,
    )


@router.post(
    "/{out_trade_no}/refunds",
    response={201: RefundOut, 200: RefundOut, **errors(401, 403, 404, 422)},
    summary="Refund (part of) a donation, idempotent by out_refund_no",
)
def staff_donation_refund(request: HttpRequest, out_trade_no: str, body: RefundIn) -> Status[Refund]:
    """201: refund created (its status says what the channel answered); 200: the same refund
    number, donation and amount again; 422: bad input, too much, past the channel's time
    limit, or a refund number already used otherwise; 403: no finance.manage there."""
    user = _caller(request)
    donation = selectors.donation_get_for_staff(user=user, out_trade_no=out_trade_no)
    refund, created = refund_request_outcome(
        donation=donation,
        amount_fen=body.amount_fen,
        out_refund_no=body.out_refund_no,
        reason=body.reason,
        actor=user,
        meta=RequestMeta.from_request(request),
    )
    return Status(201 if created else 200, refund)
