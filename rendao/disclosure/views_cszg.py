"""Staff page: export a project's figures in the shape 慈善中国 takes (rendao.disclosure.cszg).

GET only: choosing a project and a period and downloading changes nothing.
Out-of-scope projects are 404, as everywhere on the staff pages.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from rendao.core.decorators import staff_required
from rendao.core.forms_branches import add_service_errors
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere
from rendao.disclosure.cszg import (
    SHEET_KEYS,
    cszg_csv,
    cszg_filename,
    cszg_period,
    cszg_project_get,
    cszg_projects_for,
    cszg_sheets,
    cszg_xlsx,
)
from rendao.funds.models import FundraisingProject

_DATE = forms.DateInput(attrs={"type": "date", "class": "weui-input"}, format="%Y-%m-%d")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _ProjectField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: FundraisingProject) -> str:
        return f"{obj.title} ({obj.filing_number or obj.get_status_display()})"


class CszgForm(forms.Form):
    project = _ProjectField(
        label=_("Fundraising project"), queryset=FundraisingProject.objects.none(), empty_label=None
    )
    start = forms.DateField(label=_("From"), widget=_DATE)
    end = forms.DateField(label=_("To"), widget=_DATE)
    format = forms.ChoiceField(
        label=_("Format"), choices=[("xlsx", _("Excel workbook (all sheets)")), ("csv", _("CSV (one sheet)"))]
    )
    sheet = forms.ChoiceField(
        label=_("Sheet (CSV)"),
        required=False,
        choices=[
            ("fundraising", _("Fundraising (募捐情况)")),
            ("uses", _("Use of money (款物使用明细)")),
            ("goods", _("Goods (物资接收与发放)")),
            ("disclosures", _("Published disclosures (信息公开记录)")),
        ],
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(_ProjectField, self.fields["project"]).queryset = cszg_projects_for(user)


def _form_page(request: HttpRequest, form: CszgForm, status: int = 200) -> HttpResponse:
    return render(request, "disclosure/cszg_export.html", {"form": form}, status=status)


@require_GET
@staff_required
def cszg_export_page(request: HttpRequest) -> HttpResponse:
    """GET /staff/disclosures/cszg/: the form, or (with ?project=…) the file."""
    user = cast(User, request.user)
    if "project" not in request.GET:
        if not (has_perm_anywhere(user, Perm.FINANCE_VIEW) or has_perm_anywhere(user, Perm.FINANCE_MANAGE)):
            raise PermissionDenied(_("You do not have permission to do this."))
        return _form_page(request, CszgForm(user=user))
    project = cszg_project_get(user=user, pk=request.GET.get("project"))
    data = request.GET.copy()
    data.setdefault("format", "xlsx")
    form = CszgForm(data, user=user)
    if not form.is_valid():
        return _form_page(request, form, 400)
    try:
        period = cszg_period(form.cleaned_data["start"], form.cleaned_data["end"])
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _form_page(request, form, 400)
    sheets = cszg_sheets(project, period)
    if form.cleaned_data["format"] == "csv":
        key = form.cleaned_data["sheet"] or SHEET_KEYS[0]
        sheet = next(s for s in sheets if s.key == key)
        response = HttpResponse(cszg_csv(sheet), content_type="text/csv; charset=utf-8")
        filename = cszg_filename(project, period, f"{key}.csv")
    else:
        response = HttpResponse(cszg_xlsx(sheets), content_type=XLSX_TYPE)
        filename = cszg_filename(project, period, "xlsx")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
