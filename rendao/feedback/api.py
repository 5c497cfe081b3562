"""The donor feedback router: how the project of a followed donation used its money and goods.

GET /api/v1/donations/follow/{token}/uses answers, for the holder of the follow
link, the uses of the project since the donation was paid (no personal data:
institutions or categories, amounts, log entries) and the project's totals.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import datetime

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from rendao.core.api import errors
from rendao.feedback import selectors
from rendao.feedback.models import UseKind

router = Router(tags=["donations"])


class UseOut(Schema):
    kind: UseKind
    amount_fen: int = Field(description="Money paid out, or the estimated value of goods, in fen.")
    items: str = Field(description="Goods handed over, e.g. 书包 × 200 个; empty for money.")
    recipient: str = Field(description="The recipient institution or a category: never a person.")
    purpose: str
    ledger_index: int = Field(description="The public ledger entry that proves this use.")
    occurred_at: datetime


class TotalsOut(Schema):
    raised_fen: int
    used_fen: int
    goods_value_fen: int
    balance_fen: int | None


class DonationUsesOut(Schema):
    out_trade_no: str
    project_id: int
    project_title: str
    uses: list[UseOut] = Field(description="Newest first, since the donation was paid (at most 200).")
    uses_complete: bool
    totals: TotalsOut
    record_pdf_url: str
    record_json_url: str


@router.get(
    "/follow/{token}/uses",
    auth=None,
    response={200: DonationUsesOut, **errors(404)},
    summary="How the project of a followed donation used its money and goods",
)
def donation_uses_api(request: HttpRequest, token: str) -> DonationUsesOut:
    donation = selectors.donation_by_token(token)
    if donation is None:
        raise Http404(_("No such donation."))
    du = selectors.donation_uses(donation)
    t = du.totals
    return DonationUsesOut(
        out_trade_no=donation.out_trade_no,
        project_id=du.project.pk,
        project_title=du.project.title,
        uses=[
            UseOut(
                kind=UseKind(u.kind),
                amount_fen=u.amount_fen,
                items=u.items,
                recipient=u.recipient,
                purpose=u.purpose,
                ledger_index=u.ledger_index,
                occurred_at=u.occurred_at,
            )
            for u in du.uses
        ],
        uses_complete=not du.more,
        totals=TotalsOut(
            raised_fen=t.raised_fen,
            used_fen=t.used_fen,
            goods_value_fen=t.goods_value_fen,
            balance_fen=t.balance_fen,
        ),
        record_pdf_url=reverse("feedback:record_pdf", kwargs={"token": donation.follow_token}),
        record_json_url=reverse("feedback:record_json", kwargs={"token": donation.follow_token}),
    )
