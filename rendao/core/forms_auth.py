"""Forms of the sign-in pages. They check shape only; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rendao.core.services.accounts import phone_normalize

_INPUT = "weui-input"


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "class": _INPUT,
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": _("Mobile number"),
            }
        ),
    )

    def clean_phone(self) -> str:
        return phone_normalize(self.cleaned_data["phone"])


class SmsCodeForm(PhoneForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "class": _INPUT,
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "placeholder": _("6-digit code"),
            }
        ),
    )


class StaffPasswordForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"class": _INPUT, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"class": _INPUT, "autocomplete": "current-password"}),
    )


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("Authenticator code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "class": _INPUT,
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "placeholder": _("6-digit code"),
            }
        ),
    )
