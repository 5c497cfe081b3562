"""Forms of the distribution order, sign-off and write-off pages: input shapes only.

The rules (scope, stock, quantities) are the services'; these forms turn the
posted text into the services' arguments and show the services' errors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import scope_filter
from rendao.funds.models import FundraisingProject
from rendao.goods.models import Lot, Pick, Warehouse, WriteOffReason
from rendao.recipients.models import Institution, Need, NeedStatus

MAX_TEXT_LINES = 50


def parse_lines(text: str) -> list[tuple[str, str, str, int]]:
    """ "书包 | 小学 | 个 | 200" per line (the specification may be empty) into order lines."""
    lines: list[tuple[str, str, str, int]] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split("|")]
        if len(parts) != 4:
            raise ValidationError(
                _("Line %(n)s: write item | specification | unit | quantity.") % {"n": number}
            )
        item, specification, unit, quantity = parts
        if not quantity.isdigit():
            raise ValidationError(_("Line %(n)s: the quantity must be a whole number.") % {"n": number})
        lines.append((item, specification, unit, int(quantity)))
    if len(lines) > MAX_TEXT_LINES:
        raise ValidationError(_("An order has at most %(n)s lines.") % {"n": MAX_TEXT_LINES})
    return lines


class OrderForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), label=gettext_lazy("Warehouse"))
    recipient = forms.ModelChoiceField(
        queryset=Institution.objects.none(), label=gettext_lazy("Recipient institution")
    )
    project = forms.ModelChoiceField(
        queryset=FundraisingProject.objects.none(),
        required=False,
        label=gettext_lazy("Fundraising project"),
        help_text=gettext_lazy("If the goods are used for a project, its donors are told."),
    )
    need = forms.ModelChoiceField(
        queryset=Need.objects.none(), required=False, label=gettext_lazy("Answers the need")
    )
    purpose = forms.CharField(max_length=300, label=gettext_lazy("Purpose"))
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label=gettext_lazy("Items"),
        help_text=gettext_lazy(
            "One per line: item | specification | unit | quantity, e.g. 书包 | | 个 | 200"
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warehouses = scope_filter(
            Warehouse.objects.filter(is_active=True), user=user, perm=Perm.GOODS_MANAGE
        ).select_related("branch")
        self.fields["warehouse"].queryset = warehouses  # type: ignore[attr-defined]
        # The service decides which institutions may receive; the list offers the active ones.
        self.fields["recipient"].queryset = Institution.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["project"].queryset = FundraisingProject.objects.all()  # type: ignore[attr-defined]
        self.fields["need"].queryset = Need.objects.filter(  # type: ignore[attr-defined]
            status=NeedStatus.OPEN
        ).select_related("institution")

    def clean_lines(self) -> list[tuple[str, str, str, int]]:
        lines = parse_lines(self.cleaned_data["lines"])
        if not lines:
            raise ValidationError(_("Add at least one item to the order."))
        return lines


class SignoffForm(forms.Form):
    """One "received" field per pick (default: what was issued), and a note."""

    note = forms.CharField(max_length=500, required=False, label=gettext_lazy("Note"))

    def __init__(self, *args: Any, picks: list[Pick], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.picks = picks
        fields: dict[str, forms.Field] = {}
        for pick in picks:
            fields[f"received_{pick.pk}"] = forms.IntegerField(
                min_value=0,
                max_value=pick.quantity,
                initial=pick.quantity,
                label=_("%(item)s, lot %(lot)s: received (%(unit)s)")
                % {"item": pick.line.item_name, "lot": pick.lot.number, "unit": pick.lot.unit},
            )
        # The quantities first, then the note.
        self.fields = {**fields, **self.fields}

    def received(self) -> dict[int, int]:
        return {pick.pk: self.cleaned_data[f"received_{pick.pk}"] for pick in self.picks}


class SignoffUploadForm(SignoffForm):
    form_file = forms.FileField(
        label=gettext_lazy("Signed form"),
        help_text=gettext_lazy("The recipient's signed and stamped form: PDF, JPEG or PNG."),
    )


class CloseShortfallForm(forms.Form):
    findings = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), label=gettext_lazy("Findings")
    )


class WriteOffForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), label=gettext_lazy("Warehouse"))
    lot = forms.ModelChoiceField(queryset=Lot.objects.none(), label=gettext_lazy("Lot"))
    quantity = forms.IntegerField(min_value=1, label=gettext_lazy("Quantity"))
    reason = forms.ChoiceField(choices=WriteOffReason.choices, label=gettext_lazy("Reason"))
    explanation = forms.CharField(max_length=500, label=gettext_lazy("What happened"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warehouses = scope_filter(Warehouse.objects.all(), user=user, perm=Perm.GOODS_MANAGE)
        self.fields["warehouse"].queryset = warehouses  # type: ignore[attr-defined]
        self.fields["lot"].queryset = (  # type: ignore[attr-defined]
            Lot.objects.filter(stock__warehouse__in=warehouses, stock__quantity__gt=0)
            .distinct()
            .order_by("number")
        )
