"""Forms of the approvals pages. They parse input; the services hold the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from rendao.approvals.models import Outcome
from rendao.core.models import Branch, User


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("decision"), choices=Outcome.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject or return."),
    )
    # The step the decider was looking at, always sent by the page: a decision
    # never lands on a later step than the one shown. (Optional so that a bare
    # POST decides the current step, as the engine checks everything anyway.)
    step = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("outcome") in (Outcome.REJECT, Outcome.RETURN)
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", _("Say why: a comment is required to reject or return."))
        return data


class AmountField(forms.DecimalField):
    """An amount typed in yuan (two decimals), cleaned to integer fen."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_digits=11,
            decimal_places=2,
            min_value=Decimal(0),
            max_value=Decimal(100_000_000),
            **kwargs,
        )

    def clean(self, value: Any) -> int | None:
        yuan = super().clean(value)
        if yuan is None:
            return None
        # Exact: a Decimal with two places times 100 is a whole number of fen.
        return int(yuan * 100)


class MatterForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=100)
    description = forms.CharField(
        label=_("description"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )
    amount_fen = AmountField(
        label=_("amount (yuan)"), required=False, help_text=_("Leave empty if no money is involved.")
    )


class MatterCreateForm(MatterForm):
    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = branches
        self.order_fields(["branch", "title", "description", "amount_fen"])


class DelegationForm(forms.Form):
    username = forms.CharField(label=_("delegate's username"), max_length=150)
    starts_at = forms.DateTimeField(
        label=_("starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError(_("There is no active account with this username."))
        return user
