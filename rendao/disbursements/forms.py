"""Forms of the staff disbursement pages and the payee's sign-off page; amounts typed in yuan."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.approvals.forms import AmountField
from rendao.core.models import Branch
from rendao.disbursements.models import Category, Status
from rendao.disbursements.services import BANK_ACCOUNT_MAX, NOTE_MAX, PURPOSE_MAX, SIGNOFF_NOTE_MAX
from rendao.funds.models import Account, FundraisingProject
from rendao.recipients.models import Institution

MAX_DOCUMENTS = 10


def _narrow(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
    field.queryset = queryset


class FundChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name}"


class DisbursementFilterForm(forms.Form):
    """The list's filters (GET); an invalid value is ignored rather than an error page."""

    status = forms.ChoiceField(label=_("status"), required=False)
    project = forms.ModelChoiceField(
        label=_("project"), queryset=FundraisingProject.objects.none(), required=False
    )
    branch = forms.ModelChoiceField(
        label=_("branch and its subtree"), queryset=Branch.objects.none(), required=False
    )

    def __init__(
        self, *args: Any, projects: QuerySet[FundraisingProject], branches: QuerySet[Branch], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)  # noqa: S101 - narrows the type
        status.choices = [("", _("any")), *Status.choices]
        _narrow(self, "project", projects)
        _narrow(self, "branch", branches)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        if not data:
            return []
        return [single(data, initial)]


class DisbursementRequestForm(forms.Form):
    fund = FundChoiceField(label=_("fund"), queryset=Account.objects.none())
    payee = forms.ModelChoiceField(label=_("payee institution"), queryset=Institution.objects.none())
    amount_fen = AmountField(label=_("amount (yuan)"))
    category = forms.ChoiceField(label=_("category"), choices=Category.choices)
    purpose = forms.CharField(
        label=_("purpose"), max_length=PURPOSE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    payee_bank_account = forms.CharField(
        label=_("payee bank account"),
        max_length=BANK_ACCOUNT_MAX,
        help_text=_("The institution's account, as on its invoice or letter."),
    )
    documents = MultipleFileField(
        label=_("supporting documents"),
        required=False,
        help_text=_("Invoice, agreement or letter: PDF, JPEG or PNG, up to 10 files."),
    )

    def __init__(
        self, *args: Any, funds: QuerySet[Account], payees: QuerySet[Institution], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _narrow(self, "fund", funds)
        _narrow(self, "payee", payees)

    def clean_amount_fen(self) -> int:
        amount: int = self.cleaned_data["amount_fen"]
        if amount <= 0:
            raise forms.ValidationError(_("The amount must be above zero."))
        return amount

    def clean_documents(self) -> list[Any]:
        files: list[Any] = self.cleaned_data.get("documents") or []
        if len(files) > MAX_DOCUMENTS:
            raise forms.ValidationError(_("Attach at most 10 documents."))
        return files


class PaymentForm(forms.Form):
    bank_reference = forms.CharField(label=_("bank reference"), max_length=64)
    paid_on = forms.DateField(label=_("paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    amount_fen = AmountField(label=_("amount paid (yuan)"))

    def clean_amount_fen(self) -> int:
        amount: int = self.cleaned_data["amount_fen"]
        if amount <= 0:
            raise forms.ValidationError(_("The amount must be above zero."))
        return amount

    def clean_paid_on(self) -> Any:
        day = self.cleaned_data["paid_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The day of the transfer cannot be in the future."))
        return day


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("how the dispute was settled"),
        max_length=SIGNOFF_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SignoffUploadForm(forms.Form):
    form_file = forms.FileField(label=_("signed form (PDF, JPEG or PNG)"))
    received_fen = AmountField(label=_("amount received, as on the form (yuan)"))
    note = forms.CharField(label=_("note"), max_length=SIGNOFF_NOTE_MAX, required=False)


class PayeeSignoffForm(forms.Form):
    """The payee's answer: confirm what arrived, or dispute it."""

    decision = forms.ChoiceField(
        label=_("your answer"),
        choices=[("confirm", _("I confirm the amount arrived")), ("dispute", _("Something is wrong"))],
        widget=forms.RadioSelect,
    )
    received_fen = AmountField(label=_("amount received (yuan)"), required=False)
    note = forms.CharField(
        label=_("note"), max_length=SIGNOFF_NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("decision") == "confirm"
            and data.get("received_fen") is None
            and "received_fen" not in self.errors
        ):
            self.add_error("received_fen", _("Give the amount that arrived."))
        if (
            data.get("decision") == "dispute"
            and not (data.get("note") or "").strip()
            and "note" not in self.errors
        ):
            self.add_error("note", _("Say what is wrong with the payment."))
        return data
