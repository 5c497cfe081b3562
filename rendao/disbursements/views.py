"""The staff pages of disbursements, and the payee's sign-off page.

Thin: parse, call rendao.disbursements.services, render. Reading needs
FINANCE_VIEW in scope (out of scope is a 404); every write needs FINANCE_MANAGE
at the disbursement's branch, checked before the form so that a refusal is a
403, not a form error. The payee's page answers only the payee's
representatives, through the signed link.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import public_login_required, staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import branches_for, has_perm_anywhere, in_scope, require_perm, scope_filter
from rendao.disbursements import selectors, services
from rendao.disbursements.forms import (
    CancelForm,
    DisbursementFilterForm,
    DisbursementRequestForm,
    PayeeSignoffForm,
    PaymentForm,
    ResolveForm,
    SignoffUploadForm,
)
from rendao.disbursements.models import Disbursement, Status
from rendao.disbursements.upload_purposes import DOCUMENT, SIGNOFF_FORM
from rendao.funds.models import FundraisingProject
from rendao.uploads.services import attachment_create

PER_PAGE = 50
S = Status


def _user(request: HttpRequest) -> User:
    # staff_required / public_login_required let only signed-in users through.
    return cast(User, request.user)


def _detail_url(d: Disbursement) -> str:
    return reverse("disbursements:detail", kwargs={"number": d.number})


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    return number


@require_GET
@staff_required
def disbursement_list(request: HttpRequest) -> HttpResponse:
    """Disbursements in the user's FINANCE_VIEW scope; a constant number of queries."""
    user = _user(request)
    if not has_perm_anywhere(user, Perm.FINANCE_VIEW):
        raise PermissionDenied(_("Your roles do not let you see disbursements."))
    projects = scope_filter(FundraisingProject.objects.all(), user=user, perm=Perm.FINANCE_VIEW).order_by(
        "-created_at"
    )
    branches = branches_for(user, Perm.FINANCE_VIEW)
    form = DisbursementFilterForm(request.GET or None, projects=projects, branches=branches)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = selectors.disbursements_for_staff(
        user=user,
        status=data.get("status") or "",
        project=data.get("project"),
        branch=data.get("branch"),
    )
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    query = urlencode([(k, str(v)) for k, v in request.GET.items() if k != "page" and v])
    context = {
        "nav": "disbursements",
        "form": form,
        "page": page,
        "query": query,
        "may_create": has_perm_anywhere(user, Perm.FINANCE_MANAGE),
    }
    return render(request, "disbursements/list.html", context)


def _request_form(request: HttpRequest, user: User) -> DisbursementRequestForm:
    posted = request.method == "POST"
    return DisbursementRequestForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        funds=selectors.funds_for_request(user=user),
        payees=selectors.payees_for_request(user=user),
    )


@require_http_methods(["GET", "POST"])
@staff_required
def disbursement_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not has_perm_anywhere(user, Perm.FINANCE_MANAGE):
        raise PermissionDenied(_("Your roles do not let you request disbursements."))
    form = _request_form(request, user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        uploads = data.pop("documents")
        fund = data["fund"]
        meta = RequestMeta.from_request(request)
        try:
            # One transaction: a refused request leaves no document rows behind.
            with transaction.atomic():
                documents = []
                for upload in uploads:
                    try:
                        documents.append(
                            attachment_create(
                                actor=user, upload=upload, purpose=DOCUMENT, branch=fund.branch, meta=meta
                            )
                        )
                    except ValidationError as exc:
                        form.add_error("documents", exc.messages)
                        raise
                d = services.disbursement_request(actor=user, documents=documents, meta=meta, **data)
        except ValidationError as exc:
            if not form.has_error("documents"):
                add_service_errors(form, exc)
        else:
            messages.success(request, _("The disbursement has been requested and sent for approval."))
            return HttpResponseRedirect(_detail_url(d))
    status = 400 if form.is_bound else 200
    funds = [
        {"code": f.code, "name": f.name, "available_fen": f.balance_fen - f.reserved_fen}
        for f in form.fields["fund"].queryset  # type: ignore[attr-defined]
    ]
    context = {"nav": "disbursements", "form": form, "funds": funds}
    return render(request, "disbursements/form.html", context, status=status)


def _detail_context(request: HttpRequest, d: Disbursement, **forms: Any) -> dict[str, Any]:
    user = _user(request)
    may_manage = in_scope(user, Perm.FINANCE_MANAGE, d.branch)
    payable = d.status in (S.APPROVED, S.PARTLY_PAID)
    context: dict[str, Any] = {
        "nav": "disbursements",
        "d": d,
        "events": list(d.events.select_related("actor")),
        "payments": list(d.payments.select_related("journal_entry", "recorded_by")),
        "signoffs": list(d.signoffs.select_related("signed_by", "form")),
        "documents": list(d.documents.all()),
        "may_manage": may_manage,
        "pay_form": forms.get("pay_form") or (PaymentForm() if may_manage and payable else None),
        "cancel_form": forms.get("cancel_form") or (CancelForm() if may_manage and payable else None),
        "resolve_form": forms.get("resolve_form")
        or (ResolveForm() if may_manage and d.status == S.DISPUTED else None),
        "upload_form": forms.get("upload_form")
        or (SignoffUploadForm() if may_manage and d.status == S.PAID else None),
        "signoff_link": services.signoff_url(d) if may_manage and d.status == S.PAID else "",
    }
    return context


@require_GET
@staff_required
def disbursement_detail(request: HttpRequest, number: str) -> HttpResponse:
    d = selectors.disbursement_get_for_staff(user=_user(request), number=number)
    return render(request, "disbursements/detail.html", _detail_context(request, d))


def _manage(request: HttpRequest, number: str) -> Disbursement:
    d = selectors.disbursement_get_for_staff(user=_user(request), number=number)
    require_perm(_user(request), Perm.FINANCE_MANAGE, d.branch)
    return d


def _refused(request: HttpRequest, d: Disbursement, **forms: Any) -> HttpResponse:
    d.refresh_from_db()
    return render(request, "disbursements/detail.html", _detail_context(request, d, **forms), status=400)


@require_POST
@staff_required
def disbursement_pay(request: HttpRequest, number: str) -> HttpResponse:
    d = _manage(request, number)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.payment_record(
                actor=_user(request),
                disbursement=d,
                meta=RequestMeta.from_request(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The payment has been recorded."))
            return HttpResponseRedirect(_detail_url(d))
    return _refused(request, d, pay_form=form)


@require_POST
@staff_required
def disbursement_cancel(request: HttpRequest, number: str) -> HttpResponse:
    d = _manage(request, number)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.disbursement_cancel(
                actor=_user(request),
                disbursement=d,
                reason=form.cleaned_data["reason"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The disbursement has been stopped and the unpaid amount released."))
            return HttpResponseRedirect(_detail_url(d))
    return _refused(request, d, cancel_form=form)


@require_POST
@staff_required
def disbursement_resolve(request: HttpRequest, number: str) -> HttpResponse:
    d = _manage(request, number)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.signoff_resolve(
                actor=_user(request),
                disbursement=d,
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The dispute is resolved; the payee can confirm again."))
            return HttpResponseRedirect(_detail_url(d))
    return _refused(request, d, resolve_form=form)


@require_POST
@staff_required
def disbursement_signoff_upload(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    d = _manage(request, number)
    form = SignoffUploadForm(request.POST, request.FILES)
    if form.is_valid():
        meta = RequestMeta.from_request(request)
        try:
            with transaction.atomic():
                try:
                    attachment = attachment_create(
                        actor=user,
                        upload=form.cleaned_data["form_file"],
                        purpose=SIGNOFF_FORM,
                        branch=d.branch,
                        meta=meta,
                    )
                except ValidationError as exc:
                    form.add_error("form_file", exc.messages)
                    raise
                services.signoff_upload(
                    actor=user,
                    disbursement=d,
                    form=attachment,
                    received_fen=form.cleaned_data["received_fen"],
                    note=form.cleaned_data["note"],
                    meta=meta,
                )
        except ValidationError as exc:
            if not form.has_error("form_file"):
                add_service_errors(form, exc)
        else:
            messages.success(request, _("The payee's signed form has been filed as their confirmation."))
            return HttpResponseRedirect(_detail_url(d))
    return _refused(request, d, upload_form=form)


# --- the payee's page -----------------------------------------------------------------------


def _payee_page(
    request: HttpRequest, d: Disbursement, form: PayeeSignoffForm, status: int = 200
) -> HttpResponse:
    context = {
        "d": d,
        "form": form if d.status == S.PAID else None,
        "payments": list(d.payments.all()),
        "signoffs": list(d.signoffs.all()),
    }
    return render(request, "disbursements/payee_signoff.html", context, status=status)


@require_http_methods(["GET", "POST"])
@public_login_required
def payee_signoff(request: HttpRequest, token: str) -> HttpResponse:
    user = _user(request)
    try:
        d = selectors.disbursement_get_for_payee(user=user, token=token)
    except PermissionDenied as exc:
        # A page that says why, not the bare 403: the link may have been forwarded.
        return render(request, "disbursements/payee_forbidden.html", {"reason": str(exc)}, status=403)
    # An empty POST is a bound, invalid form (400), not the blank page.
    form = PayeeSignoffForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meta = RequestMeta.from_request(request)
        try:
            if data["decision"] == "confirm":
                services.signoff_confirm(
                    actor=user,
                    disbursement=d,
                    received_fen=data["received_fen"],
                    note=data["note"],
                    meta=meta,
                )
            else:
                services.signoff_dispute(
                    actor=user,
                    disbursement=d,
                    note=data["note"],
                    received_fen=data["received_fen"],
                    meta=meta,
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you: your answer has been recorded."))
            return HttpResponseRedirect(request.path)
    d.refresh_from_db()
    return _payee_page(request, d, form, status=400 if form.is_bound else 200)
