"""The staff workbench: who I am here, where I am working, what is waiting."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rendao.core.decorators import staff_required
from rendao.core.inbox import inbox_items
from rendao.core.models import User
from rendao.core.workbench import (
    current_branch,
    get_switchable_branch,
    set_current_branch,
    user_memberships,
)


@require_GET
@staff_required
def workbench(request: HttpRequest) -> HttpResponse:
    # staff_required let through only a signed-in, verified staff user.
    user = cast(User, request.user)
    branch = current_branch(request)
    context = {
        "memberships": user_memberships(user),
        "branch": branch,
        "inbox": inbox_items(user, branch),
        "nav": "workbench",
    }
    return render(request, "staff/workbench.html", context)


@require_POST
@staff_required
def switch_branch(request: HttpRequest) -> HttpResponse:
    """Work in another branch; only one inside the user's memberships' subtrees."""
    branch = get_switchable_branch(request.user, request.POST.get("branch"))
    set_current_branch(request, branch)
    messages.success(request, _("You are now working in %(branch)s.") % {"branch": branch.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("core:workbench")
    return HttpResponseRedirect(target)


urlpatterns = [
    path("staff/", workbench, name="workbench"),
    path("staff/branch/", switch_branch, name="switch_branch"),
]
