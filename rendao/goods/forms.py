"""Forms of the goods pages. They parse input; the services in this app hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from rendao.approvals.forms import AmountField
from rendao.core.models import Branch
from rendao.funds.models import FundraisingProject
from rendao.goods.intake import IntakeLine
from rendao.goods.models import DonorKind, Warehouse

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WarehouseForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())
    name = forms.CharField(label=_("name"), max_length=200)
    code = forms.CharField(
        label=_("code"), max_length=32, required=False, help_text=_("Leave empty for CK-<branch>-NN.")
    )
    address = forms.CharField(label=_("address"), max_length=300, required=False)

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]


class StockFilterForm(forms.Form):
    item = forms.CharField(label=_("item"), max_length=100, required=False)
    expiring = forms.IntegerField(
        label=_("expiring within (days)"), min_value=0, max_value=3650, required=False
    )


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files at once; each is checked by the uploads app."""

    widget = MultipleImageInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(f, initial) for f in files]


class IntakeForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("warehouse"), queryset=Warehouse.objects.none())
    donor_kind = forms.ChoiceField(label=_("donor"), choices=DonorKind.choices)
    organisation_name = forms.CharField(label=_("organisation"), max_length=200, required=False)
    donor_name = forms.CharField(label=_("donor's name"), max_length=100, required=False)
    donor_mobile = forms.CharField(label=_("donor's mobile"), max_length=32, required=False)
    project = forms.ModelChoiceField(
        label=_("fundraising project"), queryset=FundraisingProject.objects.none(), required=False
    )
    received_on = forms.DateField(label=_("received on"), widget=_DATE)
    receipt_wanted = forms.BooleanField(label=_("the donor wants a receipt"), required=False, initial=True)
    workbook = forms.FileField(
        label=_("lines from Excel (.xlsx)"),
        required=False,
        help_text=_("Columns 物品, 规格, 单位, 数量, 单价(元), 批号, 有效期; replaces the lines below."),
    )
    photos = PhotosField(label=_("photos"), required=False)

    def __init__(
        self,
        *args: Any,
        warehouses: QuerySet[Warehouse],
        projects: QuerySet[FundraisingProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses  # type: ignore[attr-defined]
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]


class IntakeLineForm(forms.Form):
    item_name = forms.CharField(label=_("item"), max_length=100)
    specification = forms.CharField(label=_("specification"), max_length=100, required=False)
    unit = forms.CharField(label=_("unit"), max_length=20)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=10_000_000)
    unit_value_fen = AmountField(label=_("unit value (yuan)"), required=False)
    batch = forms.CharField(label=_("batch"), max_length=64, required=False)
    expires_on = forms.DateField(label=_("expires on"), required=False, widget=_DATE)

    def line(self) -> IntakeLine:
        data = self.cleaned_data
        return IntakeLine(
            item_name=data["item_name"],
            specification=data.get("specification") or "",
            unit=data["unit"],
            quantity=data["quantity"],
            unit_value_fen=data.get("unit_value_fen") or 0,
            batch=data.get("batch") or "",
            expires_on=data.get("expires_on"),
        )


IntakeLineFormSet = forms.formset_factory(IntakeLineForm, extra=5, max_num=200, validate_max=True)


class TransferForm(forms.Form):
    source = forms.ModelChoiceField(label=_("from"), queryset=Warehouse.objects.none())
    target = forms.ModelChoiceField(label=_("to"), queryset=Warehouse.objects.none())
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=2_147_483_647)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(
        self, *args: Any, sources: QuerySet[Warehouse], targets: QuerySet[Warehouse], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources  # type: ignore[attr-defined]
        self.fields["target"].queryset = targets  # type: ignore[attr-defined]


class CountForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    counted = forms.IntegerField(label=_("counted"), min_value=0, max_value=2_147_483_647)
    note = forms.CharField(label=_("note"), max_length=300, required=False)
