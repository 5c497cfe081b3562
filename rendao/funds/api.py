"""The donations router: create an order (idempotent), read it back by its follow token.

Public: a donor needs no account. Creating an order takes an `Idempotency-Key`
header: the same key with the same body answers the first order again (200),
the same key with another body is refused (409). The checkout in the answer says
how the donor pays (redirect to a cashier, WeChat JSAPI parameters, a QR code).
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import StrictBool, StrictInt

from rendao.core.api import errors
from rendao.funds.donations import (
    DonationRequest,
    IdempotencyConflict,
    donation_refresh,
    donation_start,
)
from rendao.funds.models import Donation, DonationStatus
from rendao.funds.payments import CheckoutKind, ClientInfo

router = Router(tags=["donations"])


class DonationIn(Schema):
    project_id: StrictInt
    amount_fen: StrictInt = Field(description="Whole fen (1 yuan = 100 fen); within the site's limits.")
    channel: str = Field(max_length=32, description="A channel the project accepts, e.g. sandbox, wechatpay.")
    anonymous: StrictBool = False
    donor_name: str = Field("", max_length=100, description="Required unless anonymous.")
    mobile: str = Field("", max_length=32, description="Optional; mainland China mobile number.")
    receipt_wanted: StrictBool = Field(True, description="False records that the donor waived a receipt.")
    attribution: str = Field("", max_length=32, description="A co-initiator's attribution code, if any.")
    feedback_wanted: StrictBool = Field(
        True, description="Tell the donor how the project's money and goods are used (Art 21 / Art 42)."
    )
    scene: str = Field(
        "", max_length=16, description="jsapi, h5, native, page or wap; empty lets the channel choose."
    )
    openid: str = Field("", max_length=128, description="The payer's openid (WeChat JSAPI only).")


class CheckoutOut(Schema):
    kind: CheckoutKind
    url: str
    params: dict[str, str]


class DonationOut(Schema):
    out_trade_no: str
    project_id: int
    amount_fen: int
    channel: str
    status: DonationStatus
    public_name: str = Field(description="As the project page shows the donor: masked, or 爱心人士.")
    receipt_wanted: bool
    refunded_fen: int
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    ledger_index: int | None = Field(description="The donation's entry in the public ledger, once paid.")
    follow_url: str = Field(description="The donor's page for this donation; keep it private.")
    checkout: CheckoutOut | None = Field(None, description="How to pay; only in the answer to a create.")


def _out(donation: Donation, checkout: CheckoutOut | None = None) -> DonationOut:
    follow = reverse("funds:donation_follow", kwargs={"token": donation.follow_token})
    return DonationOut(
        out_trade_no=donation.out_trade_no,
        project_id=donation.project_id,
        amount_fen=donation.amount_fen,
        channel=donation.channel,
        status=DonationStatus(donation.status),
        public_name=donation.public_name,
        receipt_wanted=donation.receipt_wanted,
        refunded_fen=donation.refunded_fen,
        created_at=donation.created_at,
        expires_at=donation.expires_at,
        paid_at=donation.paid_at,
        ledger_index=donation.ledger_index,
        follow_url=f"{settings.SITE_URL}{follow}",
        checkout=checkout,
    )


@router.post(
    "",
    auth=None,
    response={201: DonationOut, 200: DonationOut, **errors(409, 422)},
    summary="Create a donation order (idempotent by Idempotency-Key)",
)
def donation_create_api(
    request: HttpRequest,
    body: DonationIn,
    idempotency_key: str = Header(  # type: ignore[type-arg]
        ..., alias="Idempotency-Key", description="1–64 printable characters; one per donation."
    ),
) -> Status[DonationOut]:
    req = DonationRequest(
        project_id=body.project_id,
        amount_fen=body.amount_fen,
        channel=body.channel,
        anonymous=body.anonymous,
        donor_name=body.donor_name,
        mobile=body.mobile,
        receipt_wanted=body.receipt_wanted,
        attribution=body.attribution,
        feedback_wanted=body.feedback_wanted,
    )
    user = request.user if request.user.is_authenticated else None
    client = ClientInfo(ip=request.META.get("REMOTE_ADDR") or "", scene=body.scene, openid=body.openid)
    try:
        donation, created, made = donation_start(
            req,
            client=client,
            user=user,
            idempotency_key=idempotency_key,
        )
    except IdempotencyConflict as exc:
        raise HttpError(409, exc.message_dict["idempotency_key"][0]) from None
    checkout = None
    if made is not None:
        checkout = CheckoutOut(kind=made.kind, url=made.url, params=dict(made.params))
    return Status(201 if created else 200, _out(donation, checkout))


@router.get(
    "/follow/{token}",
    auth=None,
    response={200: DonationOut, **errors(404)},
    summary="A donation by its follow token (the donor's private link)",
)
def donation_follow_api(request: HttpRequest, token: str) -> DonationOut:
    donation = Donation.objects.filter(follow_token=token).first() if len(token) >= 20 else None
    if donation is None:
        raise Http404(_("No such donation."))
    return _out(donation_refresh(donation))
