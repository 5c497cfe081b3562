"""A signed-in user's message preferences: channels, language, optional messages.

GET shows the form; POST (with CSRF) changes the preferences through
`rendao.core.messages.message_preferences_update`. Only channels this
deployment routes are offered. Account ids already stored are shown masked and
kept unless the user types a new one or ticks "remove".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from rendao.core.audit import RequestMeta
from rendao.core.channels import mask_recipient
from rendao.core.decorators import public_login_required
from rendao.core.messages import (
    ADDRESS_FORMATS,
    available_channels,
    message_preferences_update,
    message_types,
    preference_for,
)
from rendao.core.models import MessagePreference, User

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

Channel = MessagePreference.Channel

ADDRESS_LABELS: dict[str, _StrPromise] = {
    Channel.WECHAT: gettext_lazy("WeChat openid"),
    Channel.DINGTALK: gettext_lazy("DingTalk user id"),
    Channel.WECOM: gettext_lazy("WeCom user id"),
}


class PreferencesForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Send my messages by"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": gettext_lazy("Choose only channels from the list.")},
    )
    optional_messages = forms.BooleanField(label=gettext_lazy("Also send reminders and news"), required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of my messages"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a language from the list.")},
    )

    def __init__(self, *args: Any, offered: list[str], stored: MessagePreference, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = offered
        channel_field = self.fields["channels"]
        assert isinstance(channel_field, forms.MultipleChoiceField)  # noqa: S101 - narrows the type
        channel_field.choices = [(c, Channel(c).label) for c in offered]
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)  # noqa: S101 - narrows the type
        language_field.choices = [("", _("Same as the site")), *settings.LANGUAGES]
        # One id field (and a "remove" box) per platform channel this deployment uses.
        for channel in offered:
            field_name = MessagePreference.ADDRESS_FIELDS.get(channel)
            if field_name is None:
                continue
            current = getattr(stored, field_name)
            self.fields[field_name] = forms.RegexField(
                label=ADDRESS_LABELS[channel],
                regex=ADDRESS_FORMATS[channel],
                required=False,
                max_length=64,
                strip=True,
                error_messages={"invalid": gettext_lazy("This account id is not valid.")},
                widget=forms.TextInput(
                    attrs={"placeholder": mask_recipient(current) if current else "", "autocomplete": "off"}
                ),
            )
            if current:
                self.fields[f"{field_name}_remove"] = forms.BooleanField(
                    label=gettext_lazy("Remove"), required=False
                )

    def address_fields(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        pairs = []
        for channel in self.offered:
            field_name = MessagePreference.ADDRESS_FIELDS.get(channel)
            if field_name is not None:
                remove = f"{field_name}_remove"
                pairs.append((self[field_name], self[remove] if remove in self.fields else None))
        return pairs

    def addresses(self) -> dict[str, str | None]:
        """Channel → new id, "" to remove the stored one, None to keep it."""
        changes: dict[str, str | None] = {}
        for channel in self.offered:
            field_name = MessagePreference.ADDRESS_FIELDS.get(channel)
            if field_name is None:
                continue
            typed = self.cleaned_data.get(field_name) or ""
            if typed:
                changes[channel] = typed
            elif self.cleaned_data.get(f"{field_name}_remove"):
                changes[channel] = ""
            else:
                changes[channel] = None
        return changes


def _user(request: HttpRequest) -> User:
    # public_login_required has let only signed-in users through.
    assert isinstance(request.user, User)  # noqa: S101 - narrows the type
    return request.user


@require_http_methods(["GET", "POST"])
@public_login_required
def message_preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    stored = preference_for(user)
    offered = available_channels()
    if request.method == "POST":
        form = PreferencesForm(request.POST, offered=offered, stored=stored)
        if form.is_valid():
            try:
                message_preferences_update(
                    actor=user,
                    channels=form.cleaned_data["channels"],
                    optional_messages=form.cleaned_data["optional_messages"],
                    language=form.cleaned_data["language"],
                    addresses=form.addresses(),
                    meta=RequestMeta.from_request(request),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Your message preferences have been saved."))
                return redirect("core:message_preferences")
        status = 400
    else:
        form = PreferencesForm(
            offered=offered,
            stored=stored,
            initial={
                "channels": stored.channel_list,
                "optional_messages": stored.optional_messages,
                "language": stored.language,
            },
        )
        status = 200
    essential = [t for t in message_types() if t.essential]
    optional = [t for t in message_types() if not t.essential]
    return render(
        request,
        "public/preferences.html",
        {"form": form, "essential_types": essential, "optional_types": optional, "tab": "my"},
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("my/messages/", message_preferences, name="message_preferences"),
]
