"""The staff pages of fundraising projects: list, plan form, detail with its moves.

Thin: parse, call rendao.funds.projects, render. Reading needs FINANCE_VIEW in
scope (out of scope is a 404); every write needs FINANCE_MANAGE at the project's
branch, checked before the form so that a refusal is a 403, not a form error.
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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.approvals.models import ApprovalRequest
from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import (
    branches_for,
    get_in_scope,
    has_perm_anywhere,
    in_scope,
    require_perm,
    scope_filter,
)
from rendao.core.workbench import branch_initial
from rendao.funds import projects
from rendao.funds.forms import CoInitiatorForm, FilingForm, ProjectCreateForm, TransitionForm
from rendao.funds.models import FundraisingProject, ProjectStatus
from rendao.funds.upload_purposes import COINITIATOR_AGREEMENT
from rendao.uploads.services import attachment_create

PER_PAGE = 50
S = ProjectStatus


def _user(request: HttpRequest) -> User:
    # staff_required let only signed-in, verified staff through.
    return cast(User, request.user)


def _detail(project: FundraisingProject) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("funds:project_detail", kwargs={"pk": project.pk}))


def _get(request: HttpRequest, pk: int) -> FundraisingProject:
    qs = FundraisingProject.objects.select_related("branch")
    return get_in_scope(qs, user=_user(request), perm=Perm.FINANCE_VIEW, pk=pk)


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
def project_list(request: HttpRequest) -> HttpResponse:
    """Projects in the user's FINANCE_VIEW scope; a constant number of queries (tested)."""
    user = _user(request)
    qs = scope_filter(
        FundraisingProject.objects.select_related("branch"), user=user, perm=Perm.FINANCE_VIEW
    ).order_by("-created_at", "-id")
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    context = {
        "nav": "projects",
        "page": page,
        "may_create": has_perm_anywhere(user, Perm.FINANCE_MANAGE),
    }
    return render(request, "funds/project_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def project_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    branches = branches_for(user, Perm.FINANCE_MANAGE).filter(is_active=True)
    if not branches.exists():
        raise PermissionDenied(_("Your roles do not let you draft fundraising projects."))
    form = ProjectCreateForm(
        request.POST or None, branches=branches, initial=branch_initial(request, branches)
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = projects.project_create(
                actor=user, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The project plan has been saved as a draft."))
            return _detail(project)
    status = 400 if form.is_bound else 200
    return render(request, "funds/project_form.html", {"nav": "projects", "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft plan (the same form as a new plan; the branch stays)."""
    user = _user(request)
    project = _get(request, pk)
    require_perm(user, Perm.FINANCE_MANAGE, project.branch)
    if project.status != S.DRAFT:
        messages.error(request, _("Only a draft plan can be changed."))
        return _detail(project)
    branches = branches_for(user, Perm.FINANCE_MANAGE).filter(pk=project.branch_id)
    initial = {name: getattr(project, name) for name in projects.PLAN_FIELDS}
    initial["branch"] = project.branch_id
    form = ProjectCreateForm(request.POST or None, branches=branches, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("branch")
        try:
            projects.project_update(
                actor=user, project=project, meta=RequestMeta.from_request(request), **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The project plan has been saved."))
            return _detail(project)
    status = 400 if form.is_bound else 200
    context = {"nav": "projects", "form": form, "project": project}
    return render(request, "funds/project_form.html", context, status=status)


def _moves(project: FundraisingProject) -> list[tuple[str, str]]:
    """The buttons for the staff moves the transitions table allows now (filing has its own form)."""
    status = S(project.status)
    moves: list[tuple[str, str]] = []
    if status == S.DRAFT:
        moves.append((S.IN_APPROVAL, _("Submit for approval")))
    elif (status == S.APPROVED and project.emergency) or status == S.FILED:
        moves.append((S.OPEN, _("Open for donations")))
    elif status == S.OPEN:
        moves.append((S.CLOSED, _("Close")))
    elif status == S.CLOSED:
        moves.append((S.FINAL_REPORT_PUBLISHED, _("Publish the final report")))
    return moves


def _filing_target(project: FundraisingProject) -> str | None:
    """Where the filing form moves the project: filed, or (late filing) open again; None if no form."""
    if project.status == S.APPROVED:
        return S.FILED
    if project.status == S.OPEN and project.filed_on is None:
        return S.OPEN
    return None


def _detail_context(
    request: HttpRequest,
    project: FundraisingProject,
    *,
    transition_form: TransitionForm | None = None,
    co_form: CoInitiatorForm | None = None,
) -> dict[str, Any]:
    user = _user(request)
    may_manage = in_scope(user, Perm.FINANCE_MANAGE, project.branch)
    filing_target = _filing_target(project)
    filing_form: TransitionForm | None = None
    if may_manage and filing_target is not None:
        filing_form = FilingForm(initial={"to": filing_target})
        if transition_form is not None and transition_form.data.get("to") == filing_target:
            filing_form = transition_form
    closed = project.status in (S.CLOSED, S.FINAL_REPORT_PUBLISHED)
    approval = (
        ApprovalRequest.objects.filter(process_type=projects.PROCESS_TYPE, object_id=project.pk)
        .order_by("-created_at", "-id")
        .first()
    )
    return {
        "nav": "projects",
        "project": project,
        "can_edit": may_manage and project.status == S.DRAFT,
        "events": list(project.events.select_related("actor")),
        "co_initiators": list(project.co_initiators.all()),
        "approval": approval,
        "may_manage": may_manage,
        "moves": _moves(project) if may_manage else [],
        # Errors of a plain move (no filing fields) are shown above the buttons.
        "move_errors": (
            transition_form.non_field_errors()
            if transition_form is not None and transition_form is not filing_form
            else []
        ),
        "filing_form": filing_form,
        "filing_late": filing_target == S.OPEN,
        "co_form": (co_form or CoInitiatorForm()) if may_manage and not closed else None,
    }


@require_GET
@staff_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get(request, pk)
    return render(request, "funds/project_detail.html", _detail_context(request, project))


@require_POST
@staff_required
def project_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Refusals of authority are 403 (nothing changed); bad input re-renders with 400."""
    user = _user(request)
    project = _get(request, pk)
    require_perm(user, Perm.FINANCE_MANAGE, project.branch)
    form = TransitionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            projects.project_transition(
                actor=user,
                project=project,
                to=data["to"],
                filing_number=data["filing_number"],
                filed_on=data["filed_on"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The project's status has been updated."))
            return _detail(project)
    if form.errors.get("to"):
        # A move the page never offers: say so above the buttons.
        form.add_error(None, form.errors.pop("to"))
    context = _detail_context(request, project, transition_form=form)
    return render(request, "funds/project_detail.html", context, status=400)


@require_POST
@staff_required
def coinitiator_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    project = _get(request, pk)
    require_perm(user, Perm.FINANCE_MANAGE, project.branch)
    form = CoInitiatorForm(request.POST, request.FILES)
    if form.is_valid():
        meta = RequestMeta.from_request(request)
        data = dict(form.cleaned_data)
        upload = data.pop("agreement", None)
        try:
            # One transaction: a refused co-initiator leaves no agreement row behind.
            with transaction.atomic():
                agreement = None
                if upload is not None:
                    try:
                        agreement = attachment_create(
                            actor=user,
                            upload=upload,
                            purpose=COINITIATOR_AGREEMENT,
                            branch=project.branch,
                            meta=meta,
                        )
                    except ValidationError as exc:
                        # The file's own refusal (type, size) belongs on the file field.
                        form.add_error("agreement", exc.messages)
                        raise
                projects.coinitiator_add(actor=user, project=project, meta=meta, agreement=agreement, **data)
        except ValidationError as exc:
            if not form.has_error("agreement"):
                add_service_errors(form, exc)
        else:
            messages.success(request, _("The co-initiator has been added."))
            return _detail(project)
    if project.status not in (S.CLOSED, S.FINAL_REPORT_PUBLISHED):
        context = _detail_context(request, project, co_form=form)
        return render(request, "funds/project_detail.html", context, status=400)
    # The page shows no form for a closed project: report the refusal as a message.
    messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
    return render(request, "funds/project_detail.html", _detail_context(request, project), status=400)
