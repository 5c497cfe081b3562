from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from rendao.uploads.purposes import all_purposes


class UploadForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"))
    # Empty files are let through to the service, which judges every file alike.
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["purpose"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type
        field.choices = [(p.code, p.label) for p in all_purposes()]
