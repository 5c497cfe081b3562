"""Staff pages of bank statements (list, upload, detail, resolving a difference) and the Charity-law watch.

Thin: parse, call rendao.disbursements.statements / watch, render. Reading a
statement needs FINANCE_VIEW at its branch (404 otherwise), importing or
resolving FINANCE_MANAGE there (403 before any form is read). A file the service
refuses re-renders the form with the reason, status 400; nothing is stored.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import branches_for, has_perm_anywhere
from rendao.core.workbench import branch_initial, current_branch
from rendao.disbursements import statements, watch
from rendao.disbursements.forms_statements import DifferenceResolveForm, StatementUploadForm, WatchForm
from rendao.disbursements.models import DifferenceKind, Statement

PER_PAGE = 50
LINES_PER_PAGE = 200


def _user(request: HttpRequest) -> User:
    # staff_required let only signed-in, verified staff through.
    return cast(User, request.user)


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 0
    if number < 1:
        raise Http404(_("That page number is not valid."))
    return number


def _upload_form(request: HttpRequest, user: User) -> StatementUploadForm:
    branches = branches_for(user, Perm.FINANCE_MANAGE).filter(is_active=True)
    if request.method == "POST":
        return StatementUploadForm(request.POST, request.FILES, branches=branches)
    return StatementUploadForm(branches=branches, initial=branch_initial(request, branches))


def _list(request: HttpRequest, form: StatementUploadForm | None, status: int = 200) -> HttpResponse:
    user = _user(request)
    page = Paginator(statements.statements_for_viewer(user=user), PER_PAGE).get_page(_page_number(request))
    if form is None and has_perm_anywhere(user, Perm.FINANCE_MANAGE):
        form = _upload_form(request, user)
    context = {"nav": "bank_statements", "page": page, "form": form}
    return render(request, "disbursements/statement_list.html", context, status=status)


@require_GET
@staff_required
def statement_list(request: HttpRequest) -> HttpResponse:
    return _list(request, None)


@require_POST
@staff_required
def statement_upload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not has_perm_anywhere(user, Perm.FINANCE_MANAGE):
        raise PermissionDenied(_("Only finance staff import bank statements."))
    form = _upload_form(request, user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            statement, created = statements.statement_import_outcome(
                actor=user,
                branch=data["branch"],
                filename=data["file"].name or "",
                content=data["file"].read(),
                period_start=data["period_start"],
                period_end=data["period_end"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if created:
                messages.success(request, _("The statement has been imported and matched."))
            else:
                messages.info(request, _("This file had already been imported; nothing was changed."))
            return HttpResponseRedirect(
                reverse("bank_statements:statement_detail", kwargs={"pk": statement.pk})
            )
    return _list(request, form, status=400)


def _detail(
    request: HttpRequest, statement: Statement, forms: dict[int, DifferenceResolveForm], status: int = 200
) -> HttpResponse:
    user = _user(request)
    grouped = statements.differences_by_kind(statement)
    may_manage = statements.may_manage(user, statement)
    sections = [
        (
            kind,
            label,
            [
                (d, forms.get(d.pk) or DifferenceResolveForm(auto_id=f"id_d{d.pk}_%s"))
                for d in grouped.get(kind, [])
            ],
        )
        for kind, label in DifferenceKind.choices
    ]
    lines = Paginator(statements.statement_lines(statement), LINES_PER_PAGE).get_page(_page_number(request))
    context = {
        "nav": "bank_statements",
        "statement": statement,
        "sections": [section for section in sections if section[2]],
        "lines": lines,
        "may_manage": may_manage,
    }
    return render(request, "disbursements/statement_detail.html", context, status=status)


@require_GET
@staff_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statements.statement_get_for_viewer(user=_user(request), pk=pk)
    return _detail(request, statement, {})


@require_POST
@staff_required
def difference_resolve(request: HttpRequest, pk: int, difference_pk: int) -> HttpResponse:
    user = _user(request)
    statement = statements.statement_get_for_viewer(user=user, pk=pk)
    difference = statements.difference_get_for_viewer(user=user, statement=statement, pk=difference_pk)
    if not statements.may_manage(user, statement):
        raise PermissionDenied(_("Only finance staff of this branch resolve its statement differences."))
    form = DifferenceResolveForm(request.POST, auto_id=f"id_d{difference.pk}_%s")
    if form.is_valid():
        try:
            statements.statement_difference_resolve(
                actor=user,
                difference=difference,
                resolution=form.cleaned_data["resolution"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The difference has been marked as resolved."))
            url = reverse("bank_statements:statement_detail", kwargs={"pk": statement.pk})
            return HttpResponseRedirect(f"{url}#{difference.kind}")
    return _detail(request, statement, {difference.pk: form}, status=400)


@require_GET
@staff_required
def charity_law(request: HttpRequest) -> HttpResponse:
    """The Art 61 ratios and Art 40 related-party payments of a branch's subtree in a year."""
    user = _user(request)
    branches = watch.watch_branches(user)
    if not branches.exists():
        raise PermissionDenied(_("The Charity Law watch is shown to finance staff and leaders."))
    asked = request.GET.get("branch", "")
    if asked and not (asked.isascii() and asked.isdigit() and branches.filter(pk=int(asked)).exists()):
        # Like any object out of scope: absent, so other branches cannot be probed.
        raise Http404(_("Not found."))
    form = WatchForm(request.GET or None, branches=branches)
    if request.GET and not form.is_valid():
        context = {"nav": "charity_law", "form": form, "watch": None}
        return render(request, "disbursements/watch.html", context, status=400)
    data = form.cleaned_data if request.GET else {}
    branch = data.get("branch") or _default_branch(request, branches)
    year = data.get("year") or watch.china_year()
    result = watch.watch_for_viewer(user=user, branch=branch, year=year)
    # Shown again with what is shown, defaults included.
    form = WatchForm(branches=branches, initial={"branch": branch.pk, "year": year})
    context = {"nav": "charity_law", "form": form, "watch": result}
    return render(request, "disbursements/watch.html", context)


def _default_branch(request: HttpRequest, branches: QuerySet[Branch]) -> Branch:
    """The branch the user is working in when they may watch it, else their topmost one."""
    current = current_branch(request)
    if current is not None and branches.filter(pk=current.pk).exists():
        return current
    first = branches.first()
    if first is None:
        raise PermissionDenied(_("The Charity Law watch is shown to finance staff and leaders."))
    return first
