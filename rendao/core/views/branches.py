"""Staff pages of the branch tree and its memberships: parse, call a service, render.

Every id in a URL is resolved through `rendao.core.selectors`, which looks it up
with `scope.get_in_scope`: a branch outside the user's scope is a 404. Whether
the user may change what they can see is decided by the services (403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rendao.core import scope, selectors
from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import (
    BranchCreateForm,
    BranchEditForm,
    MembershipGrantForm,
    add_service_errors,
)
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.services import branches as branch_services
from rendao.core.services import memberships as membership_services


def _user(request: HttpRequest) -> User:
    # staff_required has let only signed-in, verified staff through.
    assert isinstance(request.user, User)  # noqa: S101 - narrows the type
    return request.user


def _detail(branch: Branch) -> HttpResponseRedirect:
    return redirect("core:branch_detail", pk=branch.pk)


@staff_required
@require_http_methods(["GET"])
def branch_list(request: HttpRequest) -> HttpResponse:
    branches = list(selectors.branch_list_for(user=request.user))
    top = min((b.depth for b in branches), default=1)
    rows = [{"branch": b, "indent": "　" * (b.depth - top)} for b in branches]
    return render(request, "staff/branch_list.html", {"rows": rows, "nav": "branches"})


@staff_required
@require_http_methods(["GET"])
def branch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    branch = selectors.branch_get_for(user=user, pk=pk)
    may_manage = scope.in_scope(user, Perm.BRANCH_MANAGE, branch)
    context: dict[str, Any] = {
        "branch": branch,
        "children": list(Branch.objects.get_children(branch)),
        "memberships": [
            (m, membership_services.may_revoke(user, m))
            for m in selectors.membership_list_for(user=user, branch=branch)
        ],
        "may_manage": may_manage,
        "may_add_child": may_manage and bool(branch_services.allowed_child_kinds(branch)),
        "may_grant": membership_services.may_manage_memberships(user, branch),
    }
    context["nav"] = "branches"
    return render(request, "staff/branch_detail.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def branch_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    parent = selectors.branch_get_for(user=user, pk=pk)
    if not scope.in_scope(user, Perm.BRANCH_MANAGE, parent):
        raise PermissionDenied(_("You do not have permission to do this in this branch."))
    kinds = branch_services.allowed_child_kinds(parent)
    form = BranchCreateForm(request.POST or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            child = branch_services.branch_create(
                actor=user, parent=parent, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Branch %(name)s created.") % {"name": child.name})
            return _detail(child)
    status = 400 if form.is_bound else 200
    return render(
        request, "staff/branch_form.html", {"form": form, "parent": parent, "nav": "branches"}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def branch_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    branch = selectors.branch_get_for(user=user, pk=pk)
    if not scope.in_scope(user, Perm.BRANCH_MANAGE, branch):
        raise PermissionDenied(_("You do not have permission to do this in this branch."))
    initial = {f: getattr(branch, f) for f in branch_services.EDITABLE_FIELDS}
    form = BranchEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            branch_services.branch_update(
                actor=user, branch=branch, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return _detail(branch)
    status = 400 if form.is_bound else 200
    return render(
        request, "staff/branch_form.html", {"form": form, "branch": branch, "nav": "branches"}, status=status
    )


def _set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    user = _user(request)
    branch = selectors.branch_get_for(user=user, pk=pk)
    service = branch_services.branch_reactivate if active else branch_services.branch_deactivate
    try:
        service(actor=user, branch=branch, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Branch reactivated.") if active else _("Branch deactivated."))
    return _detail(branch)


@staff_required
@require_POST
def branch_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@staff_required
@require_POST
def branch_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@staff_required
@require_http_methods(["GET", "POST"])
def membership_grant(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    branch = selectors.branch_get_for(user=user, pk=pk)
    roles = membership_services.grantable_roles(user, branch)
    if not roles:
        raise PermissionDenied(_("You do not have permission to manage staff roles in this branch."))
    form = MembershipGrantForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        grantee: User = form.cleaned_data["username"]
        try:
            membership_services.membership_grant(
                actor=user,
                user=grantee,
                branch=branch,
                role=form.cleaned_data["role"],
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"user": "username"})
        else:
            messages.success(
                request,
                _("%(user)s now holds %(role)s at %(branch)s.")
                % {"user": grantee, "role": form.cleaned_data["role"], "branch": branch},
            )
            return _detail(branch)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "staff/membership_form.html",
        {"form": form, "branch": branch, "nav": "branches"},
        status=status,
    )


@staff_required
@require_POST
def membership_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    membership = selectors.membership_get_for(user=user, pk=pk)
    membership_services.membership_revoke(
        actor=user, membership=membership, meta=RequestMeta.from_request(request)
    )
    messages.success(
        request,
        _("%(user)s no longer holds %(role)s at %(branch)s.")
        % {"user": membership.user, "role": membership.role, "branch": membership.branch},
    )
    return HttpResponseRedirect(reverse("core:branch_detail", args=[membership.branch_id]))


urlpatterns: list[URLPattern] = [
    path("staff/branches/", branch_list, name="branches"),
    path("staff/branches/<int:pk>/", branch_detail, name="branch_detail"),
    path("staff/branches/<int:pk>/new/", branch_create, name="branch_create"),
    path("staff/branches/<int:pk>/edit/", branch_edit, name="branch_edit"),
    path("staff/branches/<int:pk>/deactivate/", branch_deactivate, name="branch_deactivate"),
    path("staff/branches/<int:pk>/reactivate/", branch_reactivate, name="branch_reactivate"),
    path("staff/branches/<int:pk>/memberships/new/", membership_grant, name="membership_grant"),
    path("staff/memberships/<int:pk>/revoke/", membership_revoke, name="membership_revoke"),
]
