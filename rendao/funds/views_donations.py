"""The staff donation pages: the list in finance scope, one donation with its money trail
and refund form, and the refused payment notifications.

Thin: parse, call rendao.funds.refunds or a selector, render. Reading needs
FINANCE_VIEW in scope (out of scope is a 404); a refund needs FINANCE_MANAGE at
the donation's branch, checked before the form so that a refusal is a 403.
Donors appear by their public (masked) name on the list and masked on the detail;
the clear values are only ever shown through rendao.privacy.reveal.pii_reveal.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.masking import mask_mobile, mask_name
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope, require_perm
from rendao.funds import selectors_donations as selectors
from rendao.funds.forms_donations import DonationFilterForm, RefundForm
from rendao.funds.models import Donation, Refund
from rendao.funds.payments import CHANNEL_LABELS
from rendao.funds.refunds import new_out_refund_no, refund_request
from rendao.funds.views import _page_number

PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    # staff_required let only signed-in, verified staff through.
    return cast(User, request.user)


@require_GET
@staff_required
def donation_list(request: HttpRequest) -> HttpResponse:
    """Donations in the user's FINANCE_VIEW scope; a constant number of queries (tested)."""
    user = _user(request)
    form = DonationFilterForm(request.GET or None, projects=selectors.projects_for_staff(user=user))
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    qs = selectors.donations_for_staff(user=user, **filters)
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "donations",
        "page": page,
        "form": form,
        "query": query.urlencode(),
        "channel_labels": CHANNEL_LABELS,
    }
    return render(request, "funds/donation_list.html", context)


def _detail_context(
    request: HttpRequest, donation: Donation, form: RefundForm | None = None
) -> dict[str, Any]:
    user = _user(request)
    may_refund = in_scope(user, Perm.FINANCE_MANAGE, donation.branch) and donation.refundable_fen > 0
    if may_refund and form is None:
        initial = {"out_refund_no": new_out_refund_no()}
        if donation.refund_flagged:
            # Late money goes back whole: prefill what is left.
            initial["amount_fen"] = f"{donation.refundable_fen / 100:.2f}"
            initial["reason"] = _("Payment arrived after the order had closed")
        form = RefundForm(initial=initial)
    return {
        "nav": "donations",
        "donation": donation,
        "channel_label": CHANNEL_LABELS.get(donation.channel, donation.channel),
        "donor_name_masked": mask_name(donation.donor_name),
        "donor_mobile_masked": mask_mobile(donation.donor_mobile),
        # A refused submission keeps its form (and errors) even when nothing is left to refund.
        "refund_form": form if may_refund or (form is not None and form.is_bound) else None,
        **selectors.donation_detail(donation),
    }


def _detail(donation: Donation) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("funds:donation_detail", kwargs={"out_trade_no": donation.out_trade_no})
    )


@require_GET
@staff_required
def donation_detail(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    donation = selectors.donation_get_for_staff(user=_user(request), out_trade_no=out_trade_no)
    return render(request, "funds/donation_detail.html", _detail_context(request, donation))


@require_POST
@staff_required
def donation_refund(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    """Bad input re-renders the form (400, nothing changed); a refund asked for redirects back."""
    user = _user(request)
    donation = selectors.donation_get_for_staff(user=user, out_trade_no=out_trade_no)
    require_perm(user, Perm.FINANCE_MANAGE, donation.branch)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            refund = refund_request(
                donation=donation,
                amount_fen=form.cleaned_data["amount_fen"],
                out_refund_no=form.cleaned_data["out_refund_no"],
                reason=form.cleaned_data["reason"],
                actor=user,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _tell(request, refund)
            return _detail(donation)
    donation.refresh_from_db()
    return render(request, "funds/donation_detail.html", _detail_context(request, donation, form), status=400)


def _tell(request: HttpRequest, refund: Refund) -> None:
    if refund.status == Refund.Status.SUCCEEDED:
        messages.success(request, _("The money has been refunded."))
    elif refund.status == Refund.Status.PROCESSING:
        messages.info(
            request, _("The payment channel is processing the refund; this page shows when it is done.")
        )
    elif refund.status == Refund.Status.REQUESTED:
        messages.warning(
            request,
            _(
                "The payment channel did not answer; the refund is asked for again "
                "automatically within minutes."
            ),
        )
    else:
        messages.error(
            request,
            _("The payment channel refused the refund: %(reason)s") % {"reason": refund.failure_reason},
        )


@require_GET
@staff_required
def payment_rejections(request: HttpRequest) -> HttpResponse:
    """Refused payment notifications: security events for finance at the city society.

    A refused notification belongs to no branch (a forged one may name no real
    order, or another branch's), so only those who hold FINANCE_VIEW at the root
    of the tree see them: a district's finance officer must not learn of other
    districts' orders through this page.
    """
    if selectors.society(_user(request)) is None:
        raise PermissionDenied(_("Only finance staff of the city society see refused notifications."))
    page = Paginator(selectors.rejections_for_staff(), PER_PAGE).get_page(_page_number(request))
    return render(request, "funds/donation_rejections.html", {"nav": "donations", "page": page})
