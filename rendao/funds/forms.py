"""Forms of the fundraising project pages. They parse input; rendao.funds.projects holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from rendao.approvals.forms import AmountField
from rendao.core.models import Branch
from rendao.funds.models import ProjectStatus
from rendao.funds.payments import CHANNEL_LABELS, CHANNELS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TEXT = forms.Textarea(attrs={"rows": 3})

# The moves staff make from the pages (the transitions table's "staff" rows; `open`
# on an open project records the late filing of an emergency project).
STAFF_TARGETS = [
    ProjectStatus.IN_APPROVAL,
    ProjectStatus.FILED,
    ProjectStatus.OPEN,
    ProjectStatus.CLOSED,
    ProjectStatus.FINAL_REPORT_PUBLISHED,
]


class ProjectCreateForm(forms.Form):
    """The plan of Charity Law Art 24; amounts typed in yuan, cleaned to integer fen."""

    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())
    title = forms.CharField(label=_("title"), max_length=200)
    purpose = forms.CharField(label=_("purpose"), max_length=5000, widget=_TEXT)
    start_date = forms.DateField(label=_("start date"), widget=_DATE)
    end_date = forms.DateField(label=_("end date"), widget=_DATE)
    area = forms.CharField(label=_("area"), max_length=200)
    responsible_name = forms.CharField(label=_("responsible person"), max_length=100)
    responsible_office_address = forms.CharField(
        label=_("responsible person's office address"),
        max_length=300,
        help_text=_("An office address only: the plan is published."),
    )
    channels = forms.MultipleChoiceField(
        label=_("accepted channels"),
        choices=[(code, CHANNEL_LABELS.get(code, code)) for code in CHANNELS],
        widget=forms.CheckboxSelectMultiple,
    )
    bank_account = forms.CharField(label=_("receiving bank account"), max_length=200)
    beneficiaries = forms.CharField(label=_("beneficiaries"), max_length=5000, widget=_TEXT)
    intended_use = forms.CharField(label=_("intended use"), max_length=5000, widget=_TEXT)
    cost_fen = AmountField(label=_("fundraising cost (yuan)"))
    leftover_handling = forms.CharField(
        label=_("handling of leftover property"), max_length=5000, widget=_TEXT
    )
    target_fen = AmountField(label=_("target amount (yuan)"))
    restricted = forms.BooleanField(label=_("restricted (定向)"), required=False)
    emergency = forms.BooleanField(
        label=_("emergency"),
        required=False,
        help_text=_("May open before filing; must then be filed within 10 days of opening."),
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = branches


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label=_("new status"), choices=[(s.value, s.label) for s in STAFF_TARGETS])
    # For filing (and the late filing of an open emergency project); the service
    # says when they are missing.
    filing_number = forms.CharField(label=_("filing number"), max_length=64, required=False)
    filed_on = forms.DateField(label=_("filing date"), required=False, widget=_DATE)


class FilingForm(TransitionForm):
    """The filing fields alone, shown on the detail page (`to` is a hidden input)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].widget = forms.HiddenInput()


class CoInitiatorForm(forms.Form):
    organisation_name = forms.CharField(label=_("organisation"), max_length=200)
    assessment_note = forms.CharField(
        label=_("assessment"),
        max_length=5000,
        widget=_TEXT,
        help_text=_("How the organisation was checked (Charity Law Art 26)."),
    )
    role = forms.CharField(label=_("role"), max_length=100)
    agreement = forms.FileField(
        label=_("written agreement"),
        required=False,
        help_text=_("The signed co-fundraising agreement: PDF, JPEG or PNG, at most 10 MB."),
    )
