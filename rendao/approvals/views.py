"""The staff approvals pages: inbox, one item with its decision form, matters, delegations.

Thin: parse, call a service or selector, render. Every rule lives in services.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rendao.approvals import matters, registry, selectors, services
from rendao.approvals.forms import DecisionForm, DelegationForm, MatterCreateForm, MatterForm
from rendao.approvals.models import ApprovalRequest, Decision, Delegation, RequestStatus, RequestStep
from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.core.workbench import branch_initial

PER_PAGE = 50
TABS = ("pending", "mine", "history")


def _user(request: HttpRequest) -> User:
    # staff_required let only signed-in, verified staff through.
    return cast(User, request.user)


def _detail(item: ApprovalRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("approvals:detail", kwargs={"pk": item.pk}))


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
def inbox(request: HttpRequest) -> HttpResponse:
    """My pending steps, the items I requested, and the ones I have decided.

    A constant number of queries whatever the number of items (tested): the list
    is one query over the denormalised current step, plus a count.
    """
    user = _user(request)
    now = timezone.now()
    tab = request.GET.get("tab", "pending")
    notices: list[str] = []
    if tab not in TABS:
        notices.append(_("Unknown list ignored."))
        tab = "pending"
    qs: QuerySet[ApprovalRequest]
    if tab == "pending":
        qs = selectors.pending_for(user, now=now).order_by("current_due_at", "id")
    elif tab == "mine":
        qs = selectors.requested_by(user).order_by("-created_at", "-id")
    else:
        qs = selectors.decided_by(user).order_by("-updated_at", "-id")
    qs = qs.select_related("branch", "current_role", "requester")
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    rows = [
        {"item": item, "overdue": item.current_due_at is not None and item.current_due_at <= now}
        for item in page.object_list
    ]
    context = {
        "nav": "approvals",
        "tab": tab,
        "page": page,
        "rows": rows,
        "notices": notices,
        "may_request": bool(matters.request_paths(user)),
    }
    return render(request, "approvals/inbox.html", context)


def _object_url(item: ApprovalRequest) -> str:
    """The owning app's own page of the object being approved ("" if it has none).

    Deciders should read the whole item, not only its title; that page does its
    own access check.
    """
    try:
        process_type = registry.get(item.process_type)
    except KeyError:
        return ""
    if process_type.url_of is None:
        return ""
    obj = process_type.model._default_manager.filter(pk=item.object_id).first()
    return process_type.url_of(obj) if obj is not None else ""


def _detail_context(
    request: HttpRequest, item: ApprovalRequest, *, form: DecisionForm | None = None
) -> dict[str, Any]:
    user = _user(request)
    now = timezone.now()
    may_decide = selectors.may_decide(user=user, request=item, now=now)
    if may_decide and form is None:
        form = DecisionForm(initial={"step": item.current_step_id})
    steps = list(
        RequestStep.objects.filter(request=item, round=item.round)
        .select_related("role", "branch", "decision__decided_by", "decision__on_behalf_of")
        .order_by("position")
    )
    history = list(
        Decision.objects.filter(request=item, round__lt=item.round)
        .select_related("decided_by", "on_behalf_of", "step__role")
        .order_by("decided_at", "id")
    )
    matter = matters.matter_of(item)
    is_requester = item.requester_id == user.pk
    return {
        "object_url": _object_url(item),
        "nav": "approvals",
        "item": item,
        "type_label": registry.label_of(item.process_type),
        "steps": steps,
        "history": history,
        "matter": matter,
        "form": form if may_decide else None,
        "may_withdraw": is_requester and item.status in (RequestStatus.PENDING, RequestStatus.RETURNED),
        "may_revise": is_requester and item.status == RequestStatus.RETURNED and matter is not None,
        "now": now,
    }


@require_GET
@staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.request_get_for(user=_user(request), pk=pk)
    return render(request, "approvals/detail.html", _detail_context(request, item))


@require_POST
@staff_required
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Refusals of authority are 403 (nothing changed); bad input re-renders with 400."""
    user = _user(request)
    item = selectors.request_get_for(user=user, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.request_decide(
                actor=user,
                request=item,
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data["comment"],
                step_id=form.cleaned_data["step"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your decision has been recorded."))
            return _detail(item)
    # A form shown to someone who may not decide would be a lie: refuse instead.
    if not selectors.may_decide(user=user, request=item):
        if form.non_field_errors():
            messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
            return _detail(item)
        raise PermissionDenied(_("You may not decide this item now."))
    return render(request, "approvals/detail.html", _detail_context(request, item, form=form), status=400)


@require_POST
@staff_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = selectors.request_get_for(user=user, pk=pk)
    try:
        services.request_withdraw(actor=user, request=item, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The item has been withdrawn."))
    return _detail(item)


@require_http_methods(["GET", "POST"])
@staff_required
def matter_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    branches = matters.requestable_branches(user)
    if not branches.exists():
        raise PermissionDenied(_("Your roles do not let you request approvals."))
    form = MatterCreateForm(
        request.POST or None, branches=branches, initial=branch_initial(request, branches)
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = matters.matter_create(
                actor=user, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Submitted for approval."))
            return _detail(item)
    status = 400 if form.is_bound else 200
    return render(request, "approvals/matter_form.html", {"form": form, "nav": "approvals"}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def matter_revise(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = selectors.request_get_for(user=user, pk=pk)
    matter = matters.matter_of(item)
    if matter is None:
        raise Http404(_("Not found."))
    if item.requester_id != user.pk or item.status != RequestStatus.RETURNED:
        raise PermissionDenied(_("Only the requester may change a returned item."))
    initial = {"title": matter.title, "description": matter.description, "amount_fen": None}
    if matter.amount_fen is not None:
        initial["amount_fen"] = f"{matter.amount_fen // 100}.{matter.amount_fen % 100:02d}"
    form = MatterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            matters.matter_revise(
                actor=user, request=item, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Submitted again: the approval starts over from the first step."))
            return _detail(item)
    status = 400 if form.is_bound else 200
    context = {"form": form, "item": item, "nav": "approvals"}
    return render(request, "approvals/matter_form.html", context, status=status)


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


@require_http_methods(["GET", "POST"])
@staff_required
def delegations(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(
                actor=user,
                to_user=form.cleaned_data["username"],
                starts_at=_aware(form.cleaned_data["starts_at"]),
                ends_at=_aware(form.cleaned_data["ends_at"]),
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"to_user": "username"})
        else:
            messages.success(request, _("Delegation saved."))
            return redirect("approvals:delegations")
    now = timezone.now()
    rows = [
        {"d": d, "active": d.starts_at <= now < d.ends_at, "ended": d.ends_at <= now}
        for d in selectors.delegations_for(user)[:100]
    ]
    status = 400 if form.is_bound else 200
    context = {"form": form, "rows": rows, "nav": "approvals"}
    return render(request, "approvals/delegations.html", context, status=status)


@require_POST
@staff_required
def delegation_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    delegation = Delegation.objects.filter(Q(from_user=user) | Q(to_user=user)).filter(pk=pk).first()
    if delegation is None:
        raise Http404(_("Not found."))
    try:
        services.delegation_end(actor=user, delegation=delegation, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Delegation ended."))
    return redirect("approvals:delegations")
