"""The staff pages of disclosures: list, draft (from the data), edit, submit for approval, correct.

Thin: parse, call rendao.disclosure.services, render. Reading needs FINANCE_VIEW
in scope, or being shown the disclosure's approval request by the engine (its
approvers); out of reach is a 404. Every write needs FINANCE_MANAGE at the
disclosure's branch, checked before the form, so a refusal is a 403 and not a
form error. Approving happens on the approvals engine's pages.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import Branch, User
from rendao.core.scope import branches_for, has_perm_anywhere, in_scope, require_perm, scope_filter
from rendao.core.workbench import current_branch
from rendao.disclosure import selectors_staff, services
from rendao.disclosure.drafting import drafted_content
from rendao.disclosure.forms import (
    CorrectionForm,
    DisclosureCreateForm,
    DisclosureEditForm,
    DisclosureFilterForm,
    DraftFromDataForm,
)
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.funds.models import FundraisingProject

PER_PAGE = 50
WRITE = services.PERM
PREFILL_PARAMS = ("kind", "project", "branch", "start", "end")


def _user(request: HttpRequest) -> User:
    # staff_required lets only signed-in users through.
    return cast(User, request.user)


def _detail_url(d: Disclosure) -> str:
    return reverse("disclosure:staff_detail", kwargs={"pk": d.pk})


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
def disclosure_list(request: HttpRequest) -> HttpResponse:
    """Drafts, disclosures in approval and published ones of the branch the user works in."""
    user = _user(request)
    if not has_perm_anywhere(user, selectors_staff.READ_PERM):
        raise PermissionDenied(_("Your roles do not let you see disclosures."))
    form = DisclosureFilterForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    branch = current_branch(request)
    qs = selectors_staff.disclosures_for_staff(
        user=user, kind=data.get("kind") or "", status=data.get("status") or "", branch=branch
    )
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    query = urlencode([(k, str(v)) for k, v in request.GET.items() if k != "page" and v])
    context = {
        "nav": "disclosures",
        "form": form,
        "page": page,
        "query": query,
        "branch": branch,
        "may_create": has_perm_anywhere(user, WRITE),
    }
    return render(request, "disclosure/staff_list.html", context)


def _create_choices(user: User) -> tuple[Any, Any]:
    branches = branches_for(user, WRITE)
    projects = scope_filter(FundraisingProject.objects.all(), user=user, perm=WRITE).order_by("-created_at")
    return branches, projects


def _prefill(request: HttpRequest, branches: Any, projects: Any) -> tuple[dict[str, Any], Any]:
    """Initial values drafted from the data for the calendar's GET parameters, and
    the parameter form (with its errors when they are not valid)."""
    current = current_branch(request)
    initial: dict[str, Any] = {}
    if current is not None and branches.filter(pk=current.pk).exists():
        initial["branch"] = current.pk
    if not any(name in request.GET for name in PREFILL_PARAMS):
        return initial, None
    params = DraftFromDataForm(request.GET, branches=branches, projects=projects)
    if not params.is_valid():
        return initial, params
    data = params.cleaned_data
    project: FundraisingProject | None = data.get("project")
    branch: Branch | None = data.get("branch")
    if branch is None:
        branch = project.branch if project is not None else branches.filter(pk=initial.get("branch")).first()
    if branch is None:
        params.add_error("branch", _("Choose a branch."))
        return initial, params
    try:
        drafted = drafted_content(
            branch=branch,
            project=project,
            kind=data["kind"],
            period_start=data["start"],
            period_end=data["end"],
        )
    except ValidationError as exc:
        add_service_errors(params, exc)
        return initial, params
    initial.update(
        branch=branch.pk,
        project=drafted.project.pk if drafted.project is not None else None,
        kind=data["kind"],
        period_start=data["start"],
        period_end=data["end"],
        title=drafted.title,
        body=drafted.body,
        figures=drafted.figures,
    )
    return initial, params


@require_http_methods(["GET", "POST"])
@staff_required
def disclosure_create(request: HttpRequest) -> HttpResponse:
    """A new draft; with the calendar's GET parameters it is prefilled from the data."""
    user = _user(request)
    if not has_perm_anywhere(user, WRITE):
        raise PermissionDenied(_("Your roles do not let you draft disclosures."))
    branches, projects = _create_choices(user)
    params = None
    if request.method == "POST":
        form = DisclosureCreateForm(request.POST, branches=branches, projects=projects)
        if form.is_valid():
            data = form.cleaned_data
            try:
                d = services.disclosure_draft(actor=user, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("The draft has been saved. Check it, then submit it for approval.")
                )
                return HttpResponseRedirect(_detail_url(d))
    else:
        initial, params = _prefill(request, branches, projects)
        form = DisclosureCreateForm(initial=initial, branches=branches, projects=projects)
    invalid = form.is_bound or (params is not None and params.errors)
    context = {"nav": "disclosures", "form": form, "params": params}
    return render(request, "disclosure/staff_form.html", context, status=400 if invalid else 200)


def _figure_rows(d: Disclosure) -> list[tuple[str, int]]:
    return [(label, int(fen)) for label, fen in d.figures.items()]


def _detail_context(request: HttpRequest, d: Disclosure, **forms: Any) -> dict[str, Any]:
    user = _user(request)
    may_manage = in_scope(user, WRITE, d.branch)
    requests = selectors_staff.approval_requests(d)
    open_request = services.open_request(d)
    editable = services.is_editable(d, open_request)
    versions = list(selectors_staff.series_versions(d))
    newest_published = max(
        (v for v in versions if v.status == DisclosureStatus.PUBLISHED), key=lambda v: v.version, default=None
    )
    correction_open = any(v.status != DisclosureStatus.PUBLISHED for v in versions)
    may_correct = (
        may_manage
        and d.status == DisclosureStatus.PUBLISHED
        and newest_published is not None
        and newest_published.pk == d.pk
        and not correction_open
    )
    return {
        "nav": "disclosures",
        "d": d,
        "figures": _figure_rows(d),
        "versions": versions,
        "requests": requests,
        "open_request": open_request,
        "may_manage": may_manage,
        "may_edit": may_manage and editable,
        # Only its requester sends a returned item again (the engine's rule).
        "may_submit": may_manage
        and editable
        and (open_request is None or open_request.requester_id == user.pk),
        "may_correct": may_correct,
        "correction_form": forms.get("correction_form"),
    }


@require_GET
@staff_required
def disclosure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    d = selectors_staff.disclosure_get_for_staff(user=_user(request), pk=pk)
    return render(request, "disclosure/staff_detail.html", _detail_context(request, d))


def _manage(request: HttpRequest, pk: int) -> Disclosure:
    d = selectors_staff.disclosure_get_for_staff(user=_user(request), pk=pk)
    require_perm(_user(request), WRITE, d.branch)
    return d


def _edit_initial(d: Disclosure) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "period_start": d.period_start,
        "period_end": d.period_end,
        "title": d.title,
        "body": d.body,
        "figures": d.figures,
    }


@require_http_methods(["GET", "POST"])
@staff_required
def disclosure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    d = _manage(request, pk)
    if request.method == "POST":
        form = DisclosureEditForm(request.POST)
        if form.is_valid():
            try:
                services.disclosure_update_draft(actor=_user(request), disclosure=d, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The draft has been saved."))
                return HttpResponseRedirect(_detail_url(d))
        status = 400
    else:
        if not services.is_editable(d, services.open_request(d)):
            messages.error(request, _("Only a draft can be edited."))
            return HttpResponseRedirect(_detail_url(d))
        form = DisclosureEditForm(initial=_edit_initial(d))
        status = 200
    context = {"nav": "disclosures", "form": form, "d": d}
    return render(request, "disclosure/staff_form.html", context, status=status)


@require_POST
@staff_required
def disclosure_submit(request: HttpRequest, pk: int) -> HttpResponse:
    d = _manage(request, pk)
    try:
        services.disclosure_submit(actor=_user(request), disclosure=d, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The disclosure has been sent for approval; it is published once approved.")
        )
    return HttpResponseRedirect(_detail_url(d))


@require_http_methods(["GET", "POST"])
@staff_required
def disclosure_correct(request: HttpRequest, pk: int) -> HttpResponse:
    d = _manage(request, pk)
    if d.status != DisclosureStatus.PUBLISHED:
        messages.error(request, _("Only a published disclosure can be corrected; edit the draft instead."))
        return HttpResponseRedirect(_detail_url(d))
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            try:
                correction = services.disclosure_correct(
                    actor=_user(request), published=d, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The correction has been saved as a new draft version. Submit it for approval."),
                )
                return HttpResponseRedirect(_detail_url(correction))
        status = 400
    else:
        form = CorrectionForm(initial={"title": d.title, "body": d.body, "figures": d.figures})
        status = 200
    context = {"nav": "disclosures", "form": form, "d": d, "correcting": True}
    return render(request, "disclosure/staff_form.html", context, status=status)
