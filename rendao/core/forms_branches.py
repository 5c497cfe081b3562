"""Forms of the branch pages. They parse input; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rendao.core.models import Branch, Role, User
from rendao.core.services.branches import EDITABLE_FIELDS


class BranchEditForm(forms.Form):
    """The editable fields of a branch, with the model's labels and field checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Branch, fields=EDITABLE_FIELDS))


class BranchCreateForm(BranchEditForm):
    """A new branch under a given parent: the kind is limited to what may go there."""

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Branch.Kind.choices)
        self.fields = {
            "kind": forms.ChoiceField(label=_("kind"), choices=[(k, labels[k]) for k in kinds]),
            **self.fields,
        }


class MembershipGrantForm(forms.Form):
    username = forms.CharField(label=_("username"), max_length=150)
    role = forms.ModelChoiceField(label=_("role"), queryset=Role.objects.none())

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        role_field.queryset = Role.objects.filter(pk__in=[r.pk for r in roles]).order_by("id")

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError(_("There is no active account with this username."))
        return user


def add_service_errors(
    form: forms.Form, exc: ValidationError, *, rename: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form, by field where the form has it."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = rename.get(field, field)
        form.add_error(target if target in form.fields else None, errors)
