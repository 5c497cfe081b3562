"""Forms of the staff donation pages: the list's filters and the refund form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from rendao.approvals.forms import AmountField
from rendao.funds.models import DonationStatus, FundraisingProject
from rendao.funds.payments import CHANNEL_LABELS
from rendao.funds.refunds import REASON_MAX


class DonationFilterForm(forms.Form):
    """The list's filters (GET); an invalid value is ignored rather than an error page."""

    project = forms.ModelChoiceField(
        label=_("project"), queryset=FundraisingProject.objects.none(), required=False
    )
    status = forms.ChoiceField(label=_("status"), required=False)
    channel = forms.ChoiceField(label=_("payment channel"), required=False)
    flagged = forms.BooleanField(label=_("late payments to refund only"), required=False)

    def __init__(self, *args: Any, projects: QuerySet[FundraisingProject], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project = self.fields["project"]
        assert isinstance(project, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        project.queryset = projects
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)  # noqa: S101 - narrows the type
        status.choices = [("", _("any")), *DonationStatus.choices]
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ChoiceField)  # noqa: S101 - narrows the type
        channel.choices = [("", _("any")), *((k, str(v)) for k, v in CHANNEL_LABELS.items())]


class RefundForm(forms.Form):
    amount_fen = AmountField(label=_("amount to refund (yuan)"))
    reason = forms.CharField(
        label=_("reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Generated when the form is rendered and sent back unchanged: a double
    # submit, or a retry after a lost answer, asks for the same refund.
    out_refund_no = forms.CharField(widget=forms.HiddenInput, max_length=64)
