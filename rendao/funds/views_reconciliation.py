"""The staff pages of daily reconciliation: the runs, one run's differences, an upload.

Thin: parse, call rendao.funds.reconciliation, render. Reading needs FINANCE_VIEW
at the city root, uploading a bill FINANCE_MANAGE there (checked before the form,
so a refusal is a 403 and never a form error). A bill the service refuses
re-renders the form with the reason; nothing is stored.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope
from rendao.funds import reconciliation
from rendao.funds.models import ReconciliationDifference
from rendao.funds.payments import CHANNEL_LABELS
from rendao.funds.payments.bills import MAX_BILL_BYTES

PER_PAGE = 50


class BillUploadForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Payment channel"))
    day = forms.DateField(
        label=gettext_lazy("Day of the bill"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("China time, as on the bill."),
    )
    file = forms.FileField(
        label=gettext_lazy("Bill file"),
        help_text=gettext_lazy("As downloaded from the merchant platform: WeChat Pay CSV, Alipay ZIP."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = cast(forms.ChoiceField, self.fields["channel"])
        channel.choices = [(name, CHANNEL_LABELS.get(name, name)) for name in settings.PAYMENT_CHANNELS]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BILL_BYTES:
            raise ValidationError(_("The bill is larger than 50 MB."))
        return upload


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


def _list(request: HttpRequest, form: BillUploadForm | None, status: int = 200) -> HttpResponse:
    user = _user(request)
    runs = reconciliation.runs_for_viewer(user=user)
    page = Paginator(runs, PER_PAGE).get_page(_page_number(request))
    may_manage = in_scope(user, Perm.FINANCE_MANAGE, reconciliation.city_root())
    context = {
        "nav": "reconciliation",
        "page": page,
        "labels": CHANNEL_LABELS,
        "form": (form or BillUploadForm()) if may_manage else None,
    }
    return render(request, "funds/reconciliation_list.html", context, status=status)


@require_GET
@staff_required
def reconciliation_list(request: HttpRequest) -> HttpResponse:
    return _list(request, None)


@require_GET
@staff_required
def reconciliation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = reconciliation.run_get_for_viewer(user=_user(request), pk=pk)
    grouped = reconciliation.differences_by_kind(run)
    sections = [(kind, label, grouped.get(kind, [])) for kind, label in ReconciliationDifference.Kind.choices]
    context = {
        "nav": "reconciliation",
        "run": run,
        "channel_label": CHANNEL_LABELS.get(run.channel, run.channel),
        "sections": [section for section in sections if section[2]],
    }
    return render(request, "funds/reconciliation_detail.html", context)


@require_POST
@staff_required
def reconciliation_upload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not in_scope(user, Perm.FINANCE_MANAGE, reconciliation.city_root()):
        raise PermissionDenied(_("Only the city society's finance staff reconcile payment channels."))
    form = BillUploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run = reconciliation.reconcile(
                channel=data["channel"],
                day=data["day"],
                raw=data["file"].read(),
                actor=user,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The bill has been reconciled."))
            return HttpResponseRedirect(reverse("funds:reconciliation_detail", kwargs={"pk": run.pk}))
    return _list(request, form, status=400)
