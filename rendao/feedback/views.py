"""The donor's downloadable record: /give/d/<token>/record.pdf and record.json.

Reached by the follow token (a capability URL, like the follow page), so the
answers are never cached and never sent as a Referer.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from rendao.feedback import selectors
from rendao.feedback.record import record_data, record_pdf


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _uses(token: str) -> selectors.DonationUses:
    donation = selectors.donation_by_token(token)
    if donation is None or not donation.is_paid:
        raise Http404
    return selectors.donation_uses(donation)


@require_GET
def record_download_pdf(request: HttpRequest, token: str) -> HttpResponse:
    du = _uses(token)
    response = HttpResponse(record_pdf(du), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="donation-record-{du.donation.out_trade_no}.pdf"'
    return _private(response)


@require_GET
def record_download_json(request: HttpRequest, token: str) -> HttpResponse:
    du = _uses(token)
    body = json.dumps(record_data(du), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="donation-record-{du.donation.out_trade_no}.json"'
    )
    return _private(response)
