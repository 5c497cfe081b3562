"""The staff disclosure calendar: what a branch's subtree must disclose, by when, and what is late.

Thin: parse the query, call `rendao.disclosure.due`, render. Reading needs
FINANCE_VIEW at the branch shown (403 for staff who hold it nowhere, 404 for a
branch id out of their scope, like any object out of scope); a malformed branch
id, date or status answers 400 with the reason.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from rendao.core.decorators import staff_required
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import branches_for, in_scope
from rendao.core.workbench import current_branch
from rendao.disclosure.calendar import DueStatus
from rendao.disclosure.due import dues_for_branch

VIEW_PERM = Perm.FINANCE_VIEW
DRAFT_PERM = Perm.FINANCE_MANAGE


class _BranchField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{'· ' * (obj.depth - 1)}{obj.name}"


class CalendarForm(forms.Form):
    branch = _BranchField(label=gettext_lazy("Branch"), queryset=Branch.objects.none(), required=False)
    date = forms.DateField(
        label=gettext_lazy("As of"),
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("YYYY-MM-DD; empty for today."),
        error_messages={"invalid": gettext_lazy("Enter a date as YYYY-MM-DD, for example 2026-05-31.")},
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *DueStatus.choices],
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = branches


def _default_branch(request: HttpRequest, branches: QuerySet[Branch]) -> Branch:
    """The branch the user works in when they may read its calendar, else their topmost one."""
    current = current_branch(request)
    if current is not None and branches.filter(pk=current.pk).exists():
        return current
    first = branches.first()
    if first is None:
        raise PermissionDenied(_("The disclosure calendar is shown to finance staff."))
    return first


@require_GET
@staff_required
def calendar(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    branches = branches_for(user, VIEW_PERM)
    if not branches.exists():
        raise PermissionDenied(_("The disclosure calendar is shown to finance staff."))
    asked = request.GET.get("branch", "")
    if asked.isascii() and asked.isdigit() and not branches.filter(pk=int(asked)).exists():
        # Like any object out of scope: absent, so other branches cannot be probed.
        raise Http404(_("Not found."))
    form = CalendarForm(request.GET or None, branches=branches)
    if request.GET and not form.is_valid():
        context = {"nav": "disclosure_calendar", "form": form, "items": None}
        return render(request, "disclosure/calendar.html", context, status=400)
    data = form.cleaned_data if request.GET else {}
    branch = data.get("branch") or _default_branch(request, branches)
    today = data.get("date") or timezone.localdate()
    status = data.get("status") or ""
    items = dues_for_branch(branch, today)
    counts = {s: sum(1 for i in items if i.status == s) for s in DueStatus.values}
    if status:
        items = [i for i in items if i.status == status]
    form = CalendarForm(branches=branches, initial={"branch": branch.pk, "date": today, "status": status})
    context = {
        "nav": "disclosure_calendar",
        "form": form,
        "branch": branch,
        "today": today,
        "items": items,
        "counts": counts,
        "may_draft": in_scope(user, DRAFT_PERM, branch),
    }
    return render(request, "disclosure/calendar.html", context)
