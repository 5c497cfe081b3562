"""The public donation form. It parses input; rendao.funds.donations holds the rules
(limits, channels, names, mobile numbers) and its errors are shown on these fields."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rendao.approvals.forms import AmountField
from rendao.approvals.templatetags.approvals import fen_yuan
from rendao.funds.donations import PRESETS_FEN, DonationRequest
from rendao.funds.models import FundraisingProject
from rendao.funds.payments import CHANNEL_LABELS

RECEIPT_WANTED = "wanted"
RECEIPT_WAIVED = "waived"
# Form tokens share the idempotency-key column with API clients' keys; the
# prefix keeps the two apart when reading the data.
TOKEN_PREFIX = "web-"  # noqa: S105 - a label, not a secret


def new_form_token() -> str:
    """A fresh idempotency key for one rendering of the form (43 + 4 characters)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def project_channels(project: FundraisingProject) -> list[tuple[str, str]]:
    """(code, label) of the channels both the project and this site accept, in the project's order."""
    return [
        (code, str(CHANNEL_LABELS.get(code, code)))
        for code in project.channels
        if code in settings.PAYMENT_CHANNELS
    ]


class DonationForm(forms.Form):
    preset = forms.TypedChoiceField(
        label=_("amount"),
        choices=[(fen, fen_yuan(fen)) for fen in PRESETS_FEN],
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
    )
    # Yuan with at most two decimals, cleaned to exact integer fen (no floats);
    # the limits are the service's (DONATION_MIN_FEN, DONATION_MAX_FEN).
    custom = AmountField(
        label=_("other amount (yuan)"),
        required=False,
        widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "decimal", "autocomplete": "off"}),
    )
    anonymous = forms.BooleanField(label=_("give anonymously"), required=False)
    donor_name = forms.CharField(
        label=_("your name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "weui-input", "autocomplete": "name"}),
        help_text=_("Shown publicly only masked, for example 张**."),
    )
    mobile = forms.CharField(
        label=_("mobile number (optional)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("Lets you find this donation under My after signing in with this number."),
    )
    receipt = forms.ChoiceField(
        label=_("donation receipt"),
        choices=[
            (RECEIPT_WANTED, _("I want a receipt")),
            (RECEIPT_WAIVED, _("I do not need a receipt")),
        ],
        initial=RECEIPT_WANTED,
        widget=forms.RadioSelect,
    )
    # Red Cross Law Art 21 / Charity Law Art 42: ticked unless the donor unticks it.
    feedback_wanted = forms.BooleanField(
        label=_("tell me how it is used"),
        required=False,
        initial=True,
        help_text=_("We tell you when the project's money or goods are used (SMS or your chosen channel)."),
    )
    channel = forms.ChoiceField(label=_("pay with"), choices=[], widget=forms.RadioSelect)
    # The co-initiator's attribution code, from the partner link's ?c=.
    c = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    # The form's idempotency key: a double-tapped submit sends the same token
    # and gets the same order back instead of a second one.
    token = forms.CharField(
        max_length=64,
        widget=forms.HiddenInput,
        error_messages={"required": _("This form has expired; please check it and send it again.")},
    )

    def __init__(self, *args: Any, project: FundraisingProject, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        channels = project_channels(project)
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type
        field.choices = channels
        if len(channels) == 1:
            field.initial = channels[0][0]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        custom = data.get("custom")
        if custom is None and not data.get("preset") and "custom" not in self.errors:
            self.add_error("custom", _("Choose an amount or enter another amount."))
        return data

    def amount_fen(self) -> int:
        """The chosen amount: another amount typed in wins over a preset."""
        custom = self.cleaned_data.get("custom")
        return int(custom) if custom is not None else int(self.cleaned_data["preset"])

    def donation_request(self) -> DonationRequest:
        data = self.cleaned_data
        return DonationRequest(
            project_id=self.project.pk,
            amount_fen=self.amount_fen(),
            channel=data["channel"],
            anonymous=bool(data.get("anonymous")),
            donor_name=(data.get("donor_name") or "").strip(),
            mobile=(data.get("mobile") or "").strip(),
            receipt_wanted=data["receipt"] == RECEIPT_WANTED,
            attribution=data.get("c") or "",
            feedback_wanted=bool(data.get("feedback_wanted")),
        )
