"""Forms of the institution and needs pages. They parse input; rendao.recipients.services holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from rendao.core.models import Branch
from rendao.recipients.models import InstitutionKind

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InstitutionForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())
    name = forms.CharField(label=_("name"), max_length=200)
    kind = forms.ChoiceField(label=_("kind"), choices=InstitutionKind.choices)
    credit_code = forms.CharField(
        label=_("unified social credit code"),
        max_length=40,
        required=False,
        help_text=_("18 characters; leave empty if the institution has none (a community, a street office)."),
    )
    address = forms.CharField(label=_("address"), max_length=300, required=False)
    contact_name = forms.CharField(label=_("contact person"), max_length=100, required=False)
    contact_mobile = forms.CharField(
        label=_("contact mobile"),
        max_length=32,
        required=False,
        help_text=_("Stored sealed and shown masked."),
    )
    related_party = forms.BooleanField(label=_("related party (Art 40)"), required=False)
    related_party_note = forms.CharField(
        label=_("relation"),
        max_length=300,
        required=False,
        help_text=_(
            "Required for a related party: how the institution is related to the society's officers."
        ),
    )

    def __init__(self, *args: Any, branches: QuerySet[Branch], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = branches
        if editing:
            field.disabled = True
            mobile = self.fields["contact_mobile"]
            mobile.help_text = _("Leave empty to keep the number on file; type a new one to replace it.")


class MemberAddForm(forms.Form):
    mobile = forms.CharField(
        label=_("representative's mobile number"),
        max_length=32,
        help_text=_("The person must have signed in once on the public site with this number."),
    )


class NeedForm(forms.Form):
    item_name = forms.CharField(label=_("item"), max_length=100)
    specification = forms.CharField(label=_("specification"), max_length=100, required=False)
    unit = forms.CharField(label=_("unit"), max_length=20)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=10_000_000)
    deadline = forms.DateField(label=_("needed by"), widget=_DATE)
    purpose = forms.CharField(label=_("what it is for"), max_length=300)


class InstitutionFilter(forms.Form):
    kind = forms.ChoiceField(
        label=_("kind"), choices=[("", _("all kinds")), *InstitutionKind.choices], required=False
    )
    related = forms.ChoiceField(
        label=_("related party"),
        choices=[("", _("all")), ("yes", _("related parties only")), ("no", _("not related"))],
        required=False,
    )
    q = forms.CharField(label=_("name"), max_length=100, required=False)
