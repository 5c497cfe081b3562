"""The staff goods pages: warehouses, stock, lots, intakes, transfers and stock-takes.

Thin: parse, call a service of this app or a selector, render. Reading needs
GOODS_VIEW in scope (out of scope is a 404); writing needs GOODS_MANAGE, which
the services check (a refusal is a 403, nothing changed). Bad input re-renders
the form with status 400.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.masking import mask_mobile, mask_name
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import branches_for, in_scope, scope_filter
from rendao.funds.models import FundraisingProject, ProjectStatus
from rendao.goods import selectors
from rendao.goods.forms import (
    CountForm,
    IntakeForm,
    IntakeLineFormSet,
    StockFilterForm,
    TransferForm,
    WarehouseForm,
)
from rendao.goods.intake import intake_record
from rendao.goods.models import StockTakeStatus, Warehouse
from rendao.goods.stocktake import stocktake_close, stocktake_count, stocktake_open, stocktake_totals
from rendao.goods.upload_purposes import INTAKE_PHOTO
from rendao.goods.warehouses import transfer_create, warehouse_close, warehouse_create

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


def _home_context(request: HttpRequest, form: WarehouseForm | None = None) -> dict[str, Any]:
    user = _user(request)
    branches = branches_for(user, Perm.GOODS_MANAGE)
    if form is None and branches.exists():
        form = WarehouseForm(branches=branches)
    return {"nav": "goods", "warehouses": list(selectors.warehouses_for_staff(user=user)), "form": form}


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Warehouses in scope with their totals (one query)."""
    return render(request, "goods/home.html", _home_context(request))


@require_POST
@staff_required
def warehouse_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = WarehouseForm(request.POST, branches=branches_for(user, Perm.GOODS_MANAGE))
    if form.is_valid():
        try:
            warehouse = warehouse_create(
                actor=user,
                branch=form.cleaned_data["branch"],
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                address=form.cleaned_data["address"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Warehouse %(code)s created.") % {"code": warehouse.code})
            return HttpResponseRedirect(reverse("goods:warehouse_stock", kwargs={"pk": warehouse.pk}))
    return render(request, "goods/home.html", _home_context(request, form), status=400)


@require_GET
@staff_required
def warehouse_stock(request: HttpRequest, pk: int) -> HttpResponse:
    """A warehouse's stock, 50 rows a page, earliest expiry first; a constant number of queries."""
    user = _user(request)
    warehouse = selectors.warehouse_get_for_staff(user=user, pk=pk)
    form = StockFilterForm(request.GET or None)
    item, days = "", None
    if form.is_bound:
        if not form.is_valid():
            return render(
                request,
                "goods/warehouse_stock.html",
                {"nav": "goods", "warehouse": warehouse, "form": form, "page": None},
                status=400,
            )
        item = form.cleaned_data.get("item") or ""
        days = form.cleaned_data.get("expiring")
    page = selectors.stock_page(
        warehouse=warehouse, page=_page_number(request), item=item, expiring_within_days=days
    )
    query = request.GET.copy()
    query.pop("page", None)
    may_manage = in_scope(user, Perm.GOODS_MANAGE, warehouse.branch)
    context = {
        "nav": "goods",
        "warehouse": warehouse,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "may_manage": may_manage,
        "stocktakes": selectors.stocktakes_for_warehouse(warehouse),
        "today": timezone.localdate(),
    }
    return render(request, "goods/warehouse_stock.html", context)


@require_POST
@staff_required
def warehouse_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    warehouse = selectors.warehouse_get_for_staff(user=user, pk=pk)
    try:
        warehouse_close(actor=user, warehouse=warehouse, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The warehouse is closed: it takes no more goods."))
    return HttpResponseRedirect(reverse("goods:warehouse_stock", kwargs={"pk": warehouse.pk}))


def _transfer_form(user: User, data: Any = None) -> TransferForm:
    warehouses = selectors.warehouses_to_manage(user=user)
    sources = scope_filter(
        Warehouse.objects.select_related("branch"), user=user, perm=Perm.GOODS_MANAGE
    ).order_by("code")
    return TransferForm(data, sources=sources, targets=warehouses)


def _lot_context(request: HttpRequest, lot: Any, form: TransferForm | None = None) -> dict[str, Any]:
    user = _user(request)
    return {
        "nav": "goods",
        "lot": lot,
        "moves": selectors.lot_moves(lot),
        "stock": selectors.lot_stock(lot),
        "transfer_form": form or _transfer_form(user),
    }


@require_GET
@staff_required
def lot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lot = selectors.lot_get_for_staff(user=_user(request), pk=pk)
    return render(request, "goods/lot_detail.html", _lot_context(request, lot))


@require_POST
@staff_required
def transfer_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    lot = selectors.lot_get_for_staff(user=user, pk=pk)
    form = _transfer_form(user, request.POST)
    if form.is_valid():
        try:
            transfer_create(
                actor=user,
                lot=lot,
                source=form.cleaned_data["source"],
                target=form.cleaned_data["target"],
                quantity=form.cleaned_data["quantity"],
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The goods were moved."))
            return HttpResponseRedirect(reverse("goods:lot_detail", kwargs={"pk": lot.pk}))
    return render(request, "goods/lot_detail.html", _lot_context(request, lot, form), status=400)


@require_GET
@staff_required
def intake_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(selectors.intakes_for_staff(user=user), PER_PAGE).get_page(_page_number(request))
    may_record = selectors.warehouses_to_manage(user=user).exists()
    return render(request, "goods/intake_list.html", {"nav": "goods", "page": page, "may_record": may_record})


def _intake_forms(user: User, request: HttpRequest | None = None) -> tuple[IntakeForm, Any]:
    projects = FundraisingProject.objects.filter(status=ProjectStatus.OPEN).order_by("-created_at")
    projects = scope_filter(projects, user=user, perm=Perm.GOODS_VIEW) | FundraisingProject.objects.filter(
        status=ProjectStatus.OPEN, branch__depth=1
    )
    kwargs: dict[str, Any] = {
        "warehouses": selectors.warehouses_to_manage(user=user),
        "projects": projects.distinct().order_by("-created_at"),
    }
    if request is None:
        form = IntakeForm(initial={"received_on": timezone.localdate(), "receipt_wanted": True}, **kwargs)
        return form, IntakeLineFormSet(prefix="lines")
    return IntakeForm(request.POST, request.FILES, **kwargs), IntakeLineFormSet(request.POST, prefix="lines")


@require_http_methods(["GET", "POST"])
@staff_required
def intake_new(request: HttpRequest) -> HttpResponse:
    """Record goods received: lines typed in or read from an Excel workbook, photos attached."""
    user = _user(request)
    if not selectors.warehouses_to_manage(user=user).exists():
        raise PermissionDenied
    if request.method == "GET":
        form, lines = _intake_forms(user)
        return render(request, "goods/intake_form.html", {"nav": "goods", "form": form, "lines": lines})
    form, lines = _intake_forms(user, request)
    intake = None
    if form.is_valid():
        intake = _intake_submit(request, user, form, lines)
    if intake is not None:
        messages.success(request, _("Intake %(number)s recorded.") % {"number": intake.number})
        return HttpResponseRedirect(reverse("goods:intake_detail", kwargs={"pk": intake.pk}))
    return render(
        request, "goods/intake_form.html", {"nav": "goods", "form": form, "lines": lines}, status=400
    )


def _intake_submit(request: HttpRequest, user: User, form: IntakeForm, lines_formset: Any) -> Any:
    from rendao.goods.import_xlsx import intake_lines_from_xlsx
    from rendao.uploads.services import attachment_create

    data = form.cleaned_data
    workbook = data.get("workbook")
    try:
        if workbook:
            lines = intake_lines_from_xlsx(workbook)
        else:
            if not lines_formset.is_valid():
                form.add_error(None, _("Correct the lines of goods below."))
                return None
            lines = [f.line() for f in lines_formset.forms if f.has_changed()]
    except ValidationError as exc:
        form.add_error("workbook", exc)
        return None
    warehouse = data["warehouse"]
    meta = RequestMeta.from_request(request)
    photos = []
    try:
        # Photos are checked and stored first; if the intake is then refused they
        # stay as unattached uploads of the branch, listed on the attachments page.
        for upload in data.get("photos") or []:
            photos.append(
                attachment_create(
                    actor=user, upload=upload, purpose=INTAKE_PHOTO, branch=warehouse.branch, meta=meta
                )
            )
        return intake_record(
            actor=user,
            warehouse=warehouse,
            donor_kind=data["donor_kind"],
            organisation_name=data["organisation_name"],
            donor_name=data["donor_name"],
            donor_mobile=data["donor_mobile"],
            project=data.get("project"),
            received_on=data["received_on"],
            receipt_wanted=data["receipt_wanted"],
            lines=lines,
            photos=photos,
            meta=meta,
        )
    except ValidationError as exc:
        add_service_errors(form, exc, rename={"lines": "__all__"})
        return None


@require_GET
@staff_required
def intake_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intake = selectors.intake_get_for_staff(user=_user(request), pk=pk)
    context = {
        "nav": "goods",
        "intake": intake,
        "lots": list(intake.lots.order_by("id")),
        "receipt": selectors.intake_receipt(intake),
        "photos": list(intake.photos.all()),
        "donor_name_masked": mask_name(intake.donor_name),
        "donor_mobile_masked": mask_mobile(intake.donor_mobile),
    }
    return render(request, "goods/intake_detail.html", context)


@require_GET
@staff_required
def intake_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt PDF: ?copy=donor (to hand over: name and commitment salt) or the record copy."""
    from rendao.goods.receipts import goods_receipt_pdf

    intake = selectors.intake_get_for_staff(user=_user(request), pk=pk)
    receipt = selectors.intake_receipt(intake)
    if receipt is None:
        raise Http404
    copy = "donor" if request.GET.get("copy") == "donor" else "record"
    response = HttpResponse(goods_receipt_pdf(receipt, copy=copy), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def receipt_public_pdf(request: HttpRequest, number: str, check: str) -> HttpResponse:
    """Public, from the verification page: the receipt with the donor's public name only."""
    from rendao.goods.receipts import goods_receipt_pdf

    receipt = selectors.goods_receipt_for_verify(number=number, check=check)
    if receipt is None:
        raise Http404
    response = HttpResponse(goods_receipt_pdf(receipt, copy="public"), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    return response


@require_POST
@staff_required
def stocktake_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    warehouse = selectors.warehouse_get_for_staff(user=user, pk=pk)
    try:
        stocktake = stocktake_open(actor=user, warehouse=warehouse, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("goods:warehouse_stock", kwargs={"pk": warehouse.pk}))
    return HttpResponseRedirect(reverse("goods:stocktake_detail", kwargs={"pk": stocktake.pk}))


def _stocktake_context(request: HttpRequest, stocktake: Any, error: str = "") -> dict[str, Any]:
    lines = selectors.stocktake_lines(stocktake)
    return {
        "nav": "goods",
        "stocktake": stocktake,
        "lines": lines,
        "totals": stocktake_totals(lines),
        "is_open": stocktake.status == StockTakeStatus.OPEN,
        "may_manage": in_scope(_user(request), Perm.GOODS_MANAGE, stocktake.warehouse.branch),
        "error": error,
    }


@require_GET
@staff_required
def stocktake_detail(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = selectors.stocktake_get_for_staff(user=_user(request), pk=pk)
    return render(request, "goods/stocktake_detail.html", _stocktake_context(request, stocktake))


@require_POST
@staff_required
def stocktake_count_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    stocktake = selectors.stocktake_get_for_staff(user=user, pk=pk)
    form = CountForm(request.POST)
    error = ""
    if form.is_valid():
        line = stocktake.lines.filter(pk=form.cleaned_data["line"]).first()
        if line is None:
            raise Http404
        try:
            stocktake_count(
                actor=user,
                line=line,
                counted=form.cleaned_data["counted"],
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return HttpResponseRedirect(reverse("goods:stocktake_detail", kwargs={"pk": stocktake.pk}))
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context = _stocktake_context(request, stocktake, error)
    return render(request, "goods/stocktake_detail.html", context, status=400)


@require_POST
@staff_required
def stocktake_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    stocktake = selectors.stocktake_get_for_staff(user=user, pk=pk)
    try:
        stocktake_close(actor=user, stocktake=stocktake, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        context = _stocktake_context(request, stocktake, " ".join(exc.messages))
        return render(request, "goods/stocktake_detail.html", context, status=400)
    messages.success(request, _("The stock-take is closed and its result logged."))
    return HttpResponseRedirect(reverse("goods:stocktake_detail", kwargs={"pk": stocktake.pk}))


def goods_receipt_verify(request: HttpRequest, number: str, check: str) -> HttpResponse | None:
    """The public verification page of a goods receipt, or None if there is none (funds' view asks)."""
    from rendao.goods.receipts import GENERAL_PURPOSE, goods_description

    receipt = selectors.goods_receipt_for_verify(number=number, check=check)
    if receipt is None:
        return None
    intake = receipt.intake
    context = {
        "receipt": receipt,
        "intake": intake,
        "project": intake.project.title if intake.project is not None else GENERAL_PURPOSE,
        "description": goods_description(intake),
    }
    return render(request, "goods/receipt_verify.html", context)


@require_POST
@staff_required
def stocktake_line_write_off(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Follow a counted shortage up with a write-off request (two approvers), once the count is closed."""
    from rendao.goods.writeoffs import writeoff_request_for_stocktake_line

    user = _user(request)
    stocktake = selectors.stocktake_get_for_staff(user=user, pk=pk)
    line = stocktake.lines.filter(pk=line_pk).first()
    if line is None:
        raise Http404
    if stocktake.status != StockTakeStatus.CLOSED:
        error = _("Close the stock-take first: goods move again only after the count.")
        return render(
            request, "goods/stocktake_detail.html", _stocktake_context(request, stocktake, error), status=400
        )
    try:
        writeoff = writeoff_request_for_stocktake_line(
            actor=user, line=line, meta=RequestMeta.from_request(request)
        )
    except ValidationError as exc:
        context = _stocktake_context(request, stocktake, " ".join(exc.messages))
        return render(request, "goods/stocktake_detail.html", context, status=400)
    messages.success(request, _("Write-off %(number)s requested for approval.") % {"number": writeoff.number})
    return HttpResponseRedirect(reverse("goods:stocktake_detail", kwargs={"pk": stocktake.pk}))
