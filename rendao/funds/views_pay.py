"""Payment endpoints: the channels' notify URL, the sandbox cashier, receipt verification.

Thin: each parses the request, calls rendao.funds.donations / receipting and
answers. The notify endpoint is CSRF-exempt (the channel posts it) and answers
exactly what the channel expects; its authenticity is the signature, checked
by the adapter, never the caller's address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from rendao.funds.donations import UNPAID, notification_receive
from rendao.funds.models import Donation, Receipt
from rendao.funds.payments import PermanentChannelError

# A notification is a few kilobytes; anything larger is refused unread.
NOTIFY_MAX_BYTES = 64 * 1024


@csrf_exempt
@require_POST
def notify(request: HttpRequest, channel: str) -> HttpResponse:
    """POST /pay/notify/<channel>/: a channel's asynchronous payment notification."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > NOTIFY_MAX_BYTES:
        return HttpResponse(b"too large", status=413, content_type="text/plain; charset=utf-8")
    reply = notification_receive(
        channel, request.headers, request.body, remote_ip=request.META.get("REMOTE_ADDR") or None
    )
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)


def _sandbox_donation(out_trade_no: str) -> Donation:
    if "sandbox" not in settings.PAYMENT_CHANNELS:
        raise Http404
    donation = (
        Donation.objects.select_related("project")
        .filter(out_trade_no=out_trade_no, channel="sandbox")
        .first()
    )
    if donation is None:
        raise Http404
    return donation


@require_http_methods(["GET", "POST"])
def sandbox_cashier(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    """The sandbox's cashier page: what a real channel's payment sheet would be.

    "Pay" records the trade at the sandbox and queues its signed notification,
    which then takes the real notification path; the donor goes to the result page.
    """
    donation = _sandbox_donation(out_trade_no)
    follow = reverse("funds:donation_follow", kwargs={"token": donation.follow_token})
    error = ""
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return HttpResponseRedirect(follow)
        if donation.status not in UNPAID:
            return HttpResponseRedirect(follow)
        from rendao.funds.payments.sandbox.adapter import SandboxChannel
        from rendao.funds.tasks import sandbox_notification_deliver

        try:
            SandboxChannel().pay(out_trade_no)
        except PermanentChannelError:
            error = "closed"
        else:
            transaction.on_commit(lambda: sandbox_notification_deliver(out_trade_no))
            return HttpResponseRedirect(follow)
    return render(
        request,
        "funds/sandbox_cashier.html",
        {"donation": donation, "error": error, "follow_url": follow},
        status=409 if error else 200,
    )


def receipt_verify(request: HttpRequest, number: str, check: str) -> HttpResponse:
    """Public: is this receipt genuine, and is it still valid? (the receipt's QR code)"""
    receipt = (
        Receipt.objects.select_related("donation", "donation__project")
        .filter(number=number, check_code=check.upper()[:16])
        .first()
    )
    if receipt is None:
        # Goods receipts share the numbering (rendao.goods.receipts) and this page.
        from rendao.goods.views import goods_receipt_verify

        goods = goods_receipt_verify(request, number, check)
        if goods is not None:
            return goods
        return render(request, "funds/receipt_verify.html", {"receipt": None}, status=404)
    return render(request, "funds/receipt_verify.html", {"receipt": receipt, "donation": receipt.donation})


def _followed(token: str) -> Donation:
    donation = (
        Donation.objects.select_related("project", "project__branch", "co_initiator")
        .filter(follow_token=token)
        .first()
    )
    if donation is None or len(token) < 20:
        raise Http404
    return donation


@require_http_methods(["GET"])
def donation_follow(request: HttpRequest, token: str) -> HttpResponse:
    """The donor's result page and "follow my donation" link (a capability URL).

    While the order is unpaid it asks the channel, so the page shows the payment
    even before the notification arrives; once paid, the receipt and the ledger
    entry that anyone can check.
    """
    from rendao.feedback.selectors import donation_uses
    from rendao.funds.donations import donation_refresh
    from rendao.ledger.keys import ledger_verifier

    donation = _followed(token)
    if donation.status in UNPAID:
        donation = donation_refresh(donation)
    receipt = Receipt.objects.filter(donation=donation).first()
    context = {
        "donation": donation,
        "receipt": receipt,
        "ledger_key": ledger_verifier().encode() if donation.ledger_index is not None else "",
        "ledger_leaf_url": f"/api/v1/ledger/entries/{donation.ledger_index}",
        "pending": donation.status in UNPAID,
        # How the project used its money and goods since this gift (rendao.feedback).
        "feedback": donation_uses(donation) if donation.is_paid else None,
    }
    response = render(request, "funds/donation_follow.html", context)
    # A capability URL: keep it out of caches and other sites' Referer headers.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET"])
def donation_receipt_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The donor's own copy of the receipt (with the commitment salt), as a PDF."""
    from rendao.funds.receipting import receipt_pdf_bytes

    donation = _followed(token)
    receipt = (
        Receipt.objects.select_related("donation", "donation__project").filter(donation=donation).first()
    )
    if receipt is None:
        raise Http404
    response = HttpResponse(receipt_pdf_bytes(receipt, donor_copy=True), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
