"""Forms of the bank statement and Charity-law watch pages. They parse input; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core.models import Branch
from rendao.disbursements.statement_formats import MAX_STATEMENT_BYTES
from rendao.disbursements.statements import RESOLUTION_MAX


class BranchField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class StatementUploadForm(forms.Form):
    branch = BranchField(label=gettext_lazy("Branch"), queryset=Branch.objects.none())
    file = forms.FileField(
        label=gettext_lazy("Statement file"),
        help_text=gettext_lazy(
            "The account statement as exported from online banking: CSV (UTF-8 or GBK) "
            "or Excel .xlsx, up to 10 MB."
        ),
    )
    period_start = forms.DateField(
        label=gettext_lazy("Period from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Optional: the first and last booked day of the file are used otherwise."),
    )
    period_end = forms.DateField(
        label=gettext_lazy("Period to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = branches

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_STATEMENT_BYTES:
            raise ValidationError(_("The file is larger than 10 MB."))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class DifferenceResolveForm(forms.Form):
    resolution = forms.CharField(
        label=gettext_lazy("How it was resolved"),
        max_length=RESOLUTION_MAX,
        widget=forms.TextInput(),
        help_text=gettext_lazy("E.g. bank fee, booked the next working day, payment corrected."),
    )


class WatchForm(forms.Form):
    branch = BranchField(label=gettext_lazy("Branch"), queryset=Branch.objects.none(), required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100, required=False)

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = branches
