"""Pages of distribution orders, the recipient's sign-off and write-offs.

Thin: parse, call rendao.goods.distribution / writeoffs, render. Reading needs
GOODS_VIEW over the record's branch (out of scope is a 404); every write is
checked again by its service (GOODS_MANAGE), whose refusal is a 403. The
sign-off page (/inst/goods/<token>/) is for signed-in representatives of the
recipient institution; anyone else gets a 403 page that says why.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import public_login_required, staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere, in_scope
from rendao.goods import distribution, writeoffs
from rendao.goods.forms_distribution import (
    CloseShortfallForm,
    OrderForm,
    SignoffForm,
    SignoffUploadForm,
    WriteOffForm,
)
from rendao.goods.models import DistributionOrder, OrderSignoff, OrderStatus

PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    return number


def _require_manager(user: User) -> None:
    if not has_perm_anywhere(user, Perm.GOODS_MANAGE):
        raise PermissionDenied(_("You do not manage any warehouse."))


# --- orders --------------------------------------------------------------------------------------


@require_GET
@staff_required
def order_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    orders = distribution.orders_for(user)
    status = request.GET.get("status", "")
    if status in OrderStatus.values:
        orders = orders.filter(status=status)
    page = Paginator(orders, PER_PAGE).get_page(_page_number(request))
    context = {
        "nav": "goods_orders",
        "page": page,
        "statuses": OrderStatus.choices,
        "status": status,
        "may_request": has_perm_anywhere(user, Perm.GOODS_MANAGE),
    }
    return render(request, "goods/distribution_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def order_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_manager(user)
    form = OrderForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = distribution.order_request(
                actor=user,
                warehouse=data["warehouse"],
                recipient=data["recipient"],
                project=data["project"],
                need=data["need"],
                purpose=data["purpose"],
                lines=data["lines"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Order %(number)s is in approval.") % {"number": order.number})
            return HttpResponseRedirect(reverse("goods_distribution:order_detail", args=[order.pk]))
    status = 400 if form.is_bound else 200
    return render(
        request, "goods/distribution_form.html", {"nav": "goods_orders", "form": form}, status=status
    )


def _detail(
    request: HttpRequest,
    order: DistributionOrder,
    *,
    upload_form: SignoffUploadForm | None = None,
    close_form: CloseShortfallForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    may_manage = in_scope(user, Perm.GOODS_MANAGE, order.branch)
    picks = distribution.picks_of(order)
    signoff = OrderSignoff.objects.filter(order=order).select_related("signed_by", "form").first()
    if may_manage and order.status == OrderStatus.ISSUED and upload_form is None:
        upload_form = SignoffUploadForm(picks=picks)
    if may_manage and order.status == OrderStatus.SHORTFALL and close_form is None:
        close_form = CloseShortfallForm()
    context = {
        "nav": "goods_orders",
        "order": order,
        "lines": list(order.lines.all()),
        "picks": picks,
        "signoff": signoff,
        "may_manage": may_manage,
        "upload_form": upload_form if order.status == OrderStatus.ISSUED and may_manage else None,
        "close_form": close_form if order.status == OrderStatus.SHORTFALL and may_manage else None,
        "signoff_link": distribution.signoff_url(order)
        if may_manage and order.status == OrderStatus.ISSUED
        else "",
    }
    return render(request, "goods/distribution_detail.html", context, status=status)


@require_GET
@staff_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, distribution.order_get_for(user=_user(request), pk=pk))


@require_http_methods(["GET", "POST"])
@staff_required
def order_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the picks FEFO proposes; POST issues exactly that (re-planned under the locks)."""
    user = _user(request)
    order = distribution.order_get_for(user=user, pk=pk)
    if not in_scope(user, Perm.GOODS_MANAGE, order.branch):
        raise PermissionDenied(_("You do not have permission to do this in this branch."))
    error = ""
    if request.method == "POST":
        try:
            distribution.order_issue(actor=user, order=order, meta=RequestMeta.from_request(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Order %(number)s has been issued.") % {"number": order.number})
            return HttpResponseRedirect(reverse("goods_distribution:order_detail", args=[order.pk]))
    plan: list[distribution.PlannedPick] = []
    if order.status == OrderStatus.APPROVED and not error:
        try:
            plan = distribution.fefo_plan(order=order)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    elif order.status != OrderStatus.APPROVED and not error:
        error = _("Only an approved order can be issued.")
    context = {"nav": "goods_orders", "order": order, "plan": plan, "error": error}
    return render(request, "goods/distribution_issue.html", context, status=400 if error else 200)


@require_POST
@staff_required
def order_signoff_upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    order = distribution.order_get_for(user=user, pk=pk)
    if not in_scope(user, Perm.GOODS_MANAGE, order.branch):
        raise PermissionDenied(_("You do not have permission to do this in this branch."))
    form = SignoffUploadForm(request.POST, request.FILES, picks=distribution.picks_of(order))
    if form.is_valid():
        try:
            distribution.order_signoff_upload(
                actor=user,
                order=order,
                received=form.received(),
                upload=form.cleaned_data["form_file"],
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"form": "form_file"})
        else:
            messages.success(request, _("The signed form has been filed."))
            return HttpResponseRedirect(reverse("goods_distribution:order_detail", args=[order.pk]))
    order.refresh_from_db()
    return _detail(request, order, upload_form=form, status=400)


@require_POST
@staff_required
def order_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    order = distribution.order_get_for(user=user, pk=pk)
    if not in_scope(user, Perm.GOODS_MANAGE, order.branch):
        raise PermissionDenied(_("You do not have permission to do this in this branch."))
    form = CloseShortfallForm(request.POST)
    if form.is_valid():
        try:
            distribution.order_shortfall_close(
                actor=user,
                order=order,
                findings=form.cleaned_data["findings"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The shortfall's investigation is closed."))
            return HttpResponseRedirect(reverse("goods_distribution:order_detail", args=[order.pk]))
    order.refresh_from_db()
    return _detail(request, order, close_form=form, status=400)


# --- the recipient's sign-off --------------------------------------------------------------------


def _forbidden(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "goods/inst_goods_signoff_forbidden.html", {"reason": reason}, status=status)


@require_http_methods(["GET", "POST"])
@public_login_required
def inst_signoff(request: HttpRequest, token: str) -> HttpResponse:
    user = _user(request)
    try:
        order = distribution.order_for_token(token)
    except ValidationError as exc:
        return _forbidden(request, " ".join(exc.messages), 404)
    if not distribution.is_representative(user, order.recipient):
        # A page that says why, not a bare 403: the link may have been forwarded.
        return _forbidden(
            request,
            _("Only a representative of %(name)s may sign off this order.") % {"name": order.recipient.name},
            403,
        )
    picks = distribution.picks_of(order)
    form = SignoffForm(request.POST or None, picks=picks)
    if request.method == "POST" and order.status == OrderStatus.ISSUED and form.is_valid():
        try:
            distribution.order_signoff(
                actor=user,
                order=order,
                received=form.received(),
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you: what arrived has been recorded."))
            return HttpResponseRedirect(request.path)
    order.refresh_from_db()
    bad = request.method == "POST"
    context = {
        "order": order,
        "picks": picks,
        "form": form if order.status == OrderStatus.ISSUED else None,
        "signoff": OrderSignoff.objects.filter(order=order).first(),
    }
    return render(request, "goods/inst_goods_signoff.html", context, status=400 if bad else 200)


# --- write-offs ----------------------------------------------------------------------------------


@require_GET
@staff_required
def writeoff_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(writeoffs.writeoffs_for(user), PER_PAGE).get_page(_page_number(request))
    context = {
        "nav": "goods_writeoffs",
        "page": page,
        "may_request": has_perm_anywhere(user, Perm.GOODS_MANAGE),
    }
    return render(request, "goods/writeoff_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def writeoff_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_manager(user)
    form = WriteOffForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            writeoff = writeoffs.writeoff_request(
                actor=user,
                warehouse=data["warehouse"],
                lot=data["lot"],
                quantity=data["quantity"],
                reason=data["reason"],
                explanation=data["explanation"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Write-off %(number)s is in approval.") % {"number": writeoff.number})
            return HttpResponseRedirect(reverse("goods_distribution:writeoff_detail", args=[writeoff.pk]))
    status = 400 if form.is_bound else 200
    return render(
        request, "goods/writeoff_form.html", {"nav": "goods_writeoffs", "form": form}, status=status
    )


@require_GET
@staff_required
def writeoff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    writeoff = writeoffs.writeoff_get_for(user=_user(request), pk=pk)
    return render(request, "goods/writeoff_detail.html", {"nav": "goods_writeoffs", "writeoff": writeoff})
