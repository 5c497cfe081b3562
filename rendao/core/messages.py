"""Message types, their translated templates, and `notify`.

Every message the platform sends to a person has a *type* registered here: a
key, whether it is essential (sign-in codes and security notices reach the user
even if they opted out of optional messages), and subject and body templates
with `{placeholders}`, translated like any other string. Apps register their own
types with `message_type_register` at import.

    notify(user=donor, kind="donation_thanks", context={"project": name, "amount": "¥50"})

renders the type in the recipient's language and writes one outbox message per
channel the recipient chose (rendao.core.models.MessagePreference), inside the
caller's transaction. Callers that address a number rather than a user (the SMS
sign-in code) use `message_render` and `message_enqueue` themselves.

Providers that send only pre-approved templates (Alibaba Cloud SMS, WeChat
template messages) need the placeholder *values*, not our text: the outbox row
keeps them beside the body (`OutboxMessage.params`, encrypted), and "forget
after delivery" erases both.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.channels import channel_routes
from rendao.core.models import MessagePreference, OutboxMessage
from rendao.core.services.outbox import message_enqueue

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

logger = logging.getLogger("rendao.messages")

StrOrPromise = str | Promise
Channel = MessagePreference.Channel


# --- templates ---------------------------------------------------------------


class TemplateError(ValueError):
    """A template (or a provider's template setting) is not usable."""


def template_fields(text: str) -> list[str]:
    """The placeholder names of a template in order of first use.

    Only plain `{name}` placeholders are allowed: no positional `{}`, no
    attribute or index access, no conversion or format spec (a translator's
    typo must not reach into objects), and never two placeholders side by side
    (their values could not be told apart again by `message_params`).
    """
    names: list[str] = []
    previous_was_field = False
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"malformed template {text!r}: {exc}") from exc
    for literal, name, spec, conversion in parsed:
        if literal:
            previous_was_field = False
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"placeholder {{{name}}} in {text!r} must be a plain {{name}}")
        if previous_was_field:
            raise TemplateError(f"two placeholders side by side in {text!r}")
        previous_was_field = True
        if name not in names:
            names.append(name)
    return names


@contextmanager
def _language(language: str | None) -> Iterator[None]:
    # None renders the msgid (untranslated English), which is what the registry checks.
    with translation.override(language):
        yield


@dataclass(frozen=True)
class MessageType:
    """One kind of message: what it says and whether a user may refuse it."""

    key: str
    label: StrOrPromise  # shown on the preferences page
    body: StrOrPromise
    subject: StrOrPromise = ""
    # Sign-in codes, security notices: sent whatever the user's opt-out says.
    essential: bool = False
    # Codes and one-time links: the outbox blanks the body once delivered.
    forget_after_delivery: bool = False

    @property
    def placeholders(self) -> list[str]:
        with _language(None):
            fields = template_fields(str(self.subject)) + template_fields(str(self.body))
        return list(dict.fromkeys(fields))


_REGISTRY: dict[str, MessageType] = {}


def message_type_register(message_type: MessageType) -> MessageType:
    """Add a message type; its templates are checked now, not at the first send."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", message_type.key):
        raise TemplateError(f"message type key {message_type.key!r} must be lower_snake_case")
    if message_type.key in _REGISTRY:
        raise TemplateError(f"message type {message_type.key!r} is registered twice")
    message_type.placeholders  # noqa: B018 - raises TemplateError on a bad template
    _REGISTRY[message_type.key] = message_type
    return message_type


def message_type_get(kind: str) -> MessageType:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise TemplateError(f"unknown message type {kind!r}") from None


def message_types() -> list[MessageType]:
    return sorted(_REGISTRY.values(), key=lambda t: t.key)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


def _fill(template: StrOrPromise, values: Mapping[str, str]) -> str:
    text = str(template)
    with _language(None):
        msgid = str(template)
    if text != msgid and set(template_fields_safe(text)) != set(template_fields(msgid)):
        # A translation that lost or renamed a placeholder would send a code-less
        # sign-in SMS; the English original is better than that.
        logger.warning("translation of a message template has wrong placeholders; using the original")
        text = msgid
    return text.format_map(values)


def template_fields_safe(text: str) -> list[str]:
    try:
        return template_fields(text)
    except TemplateError:
        return ["<invalid>"]


def message_render(kind: str, context: Mapping[str, Any], language: str | None = None) -> RenderedMessage:
    """Subject and body of a message of type `kind` in `language` (default: the active one).

    Every placeholder must be given; values are turned into strings first, so a
    template can never reach into an object passed in the context.
    """
    message_type = message_type_get(kind)
    values = {key: str(value) for key, value in context.items()}
    missing = [name for name in message_type.placeholders if name not in values]
    if missing:
        raise TemplateError(f"message type {kind!r} needs {', '.join(missing)}")
    if language is None:
        return RenderedMessage(_fill(message_type.subject, values), _fill(message_type.body, values))
    with _language(language):
        return RenderedMessage(_fill(message_type.subject, values), _fill(message_type.body, values))


# --- provider templates (Alibaba Cloud SMS, WeChat template messages) --------


_ENTRY = re.compile(r"^(?P<kind>[a-z][a-z0-9_]*):(?P<template>[A-Za-z0-9_-]{1,128})(?::(?P<vars>.+))?$")
_VAR = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")


@dataclass(frozen=True)
class ProviderTemplate:
    """A message type's approved template at a provider, and how to fill it."""

    kind: str
    template_id: str
    # (provider variable, our placeholder); empty: every placeholder under its own name.
    variables: tuple[tuple[str, str], ...] = ()

    def values(self, params: Mapping[str, str]) -> dict[str, str]:
        if not self.variables:
            return dict(params)
        return {variable: params[placeholder] for variable, placeholder in self.variables}


def provider_templates(entries: list[str], setting: str) -> dict[str, ProviderTemplate]:
    """Parse a kind:template_id[:var=placeholder|…] list; TemplateError naming `setting`."""
    templates: dict[str, ProviderTemplate] = {}
    for entry in entries:
        match = _ENTRY.match(entry)
        if not match:
            raise TemplateError(f"{setting}: {entry!r} is not kind:template_id[:var=placeholder|…]")
        kind = match["kind"]
        try:
            placeholders = message_type_get(kind).placeholders
        except TemplateError:
            raise TemplateError(f"{setting}: {kind!r} is not a message type") from None
        if kind in templates:
            raise TemplateError(f"{setting}: message type {kind!r} is listed twice")
        variables: list[tuple[str, str]] = []
        for pair in (match["vars"] or "").split("|") if match["vars"] else []:
            variable, sep, placeholder = pair.partition("=")
            if not sep or not _VAR.match(variable) or placeholder not in placeholders:
                raise TemplateError(
                    f"{setting}: {pair!r} in {kind!r} is not var=placeholder with a placeholder "
                    f"of the type ({', '.join(placeholders)})"
                )
            variables.append((variable, placeholder))
        templates[kind] = ProviderTemplate(
            kind=kind, template_id=match["template"], variables=tuple(variables)
        )
    return templates


# --- the platform's own message types ----------------------------------------

SIGNIN_CODE = message_type_register(
    MessageType(
        key="signin_code",
        label=gettext_lazy("Sign-in codes"),
        body=gettext_lazy(
            "[Red Cross] Your sign-in code is {code}. It is valid for {minutes} minutes. "
            "Never tell it to anyone."
        ),
        essential=True,
        forget_after_delivery=True,
    )
)
SECURITY_NOTICE = message_type_register(
    MessageType(
        key="security_notice",
        label=gettext_lazy("Security notices"),
        subject=gettext_lazy("Security notice"),
        body=gettext_lazy("[Red Cross] {event} If this was not you, contact the Red Cross society at once."),
        essential=True,
    )
)
ACTIVITY_REMINDER = message_type_register(
    MessageType(
        key="activity_reminder",
        label=gettext_lazy("Activity reminders"),
        subject=gettext_lazy("Reminder: {activity}"),
        body=gettext_lazy("[Red Cross] Reminder: {activity} starts at {starts_at}. Details: {url}"),
    )
)
NEWS = message_type_register(
    MessageType(
        key="news",
        label=gettext_lazy("News from the Red Cross society"),
        subject="{title}",
        body=gettext_lazy("[Red Cross] {title}: {summary}"),
    )
)


# --- who gets what, where ----------------------------------------------------


def preference_for(user: User) -> MessagePreference:
    """The user's preferences, or unsaved defaults (all messages, SMS or email)."""
    found = MessagePreference.objects.filter(user=user).first()
    return found if found is not None else MessagePreference(user=user)


def user_addresses(user: User, preference: MessagePreference) -> dict[str, str]:
    """Where the user can be reached on each logical channel ("" where they cannot)."""
    return {
        Channel.SMS: user.mobile or "",
        Channel.EMAIL: user.email or "",
        Channel.WECHAT: preference.wechat_openid or "",
        Channel.DINGTALK: preference.dingtalk_userid or "",
        Channel.WECOM: preference.wecom_userid or "",
    }


def available_channels() -> list[str]:
    """The person-facing channels this deployment routes to an adapter, in Channel order."""
    routed = channel_routes()
    return [c for c in Channel.values if c in routed]


def channels_for(user: User, preference: MessagePreference) -> list[tuple[str, str]]:
    """(channel, address) pairs a message to `user` goes to.

    Every chosen channel that is routed and has an address; if none is left
    (nothing chosen, or the chosen platform was switched off), the mobile
    number, else the email address, so that essential messages still arrive.
    """
    routed = set(channel_routes())
    addresses = user_addresses(user, preference)
    chosen = [(c, addresses[c]) for c in preference.channel_list if c in routed and addresses.get(c)]
    if chosen:
        return chosen
    for fallback in (Channel.SMS, Channel.EMAIL):
        if fallback in routed and addresses[fallback]:
            return [(fallback, addresses[fallback])]
    return []


def message_language(preference: MessagePreference) -> str:
    return preference.language if preference.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def notify(
    *, user: User, kind: str, context: Mapping[str, Any], branch: Branch | None = None
) -> list[OutboxMessage]:
    """Send a message of type `kind` to `user` on their chosen channels, in their language.

    Written to the outbox in the caller's transaction (nothing is sent if it
    rolls back). Optional types are skipped for users who opted out and for
    disabled accounts; essential ones are always written. Returns the messages
    written (none if the user cannot be reached: logged by user id).
    """
    message_type = message_type_get(kind)
    preference = preference_for(user)
    if not message_type.essential and (not preference.optional_messages or not user.is_active):
        logger.debug("message %s for user %s skipped: optional messages refused", kind, user.pk)
        return []
    targets = channels_for(user, preference)
    if not targets:
        logger.warning("message %s for user %s not sent: no channel reaches them", kind, user.pk)
        return []
    rendered = message_render(kind, context, message_language(preference))
    return [
        message_enqueue(
            channel=channel,
            recipient=address,
            kind=kind,
            subject=rendered.subject,
            body=rendered.body,
            user=user,
            branch=branch,
            forget_after_delivery=message_type.forget_after_delivery,
            params=context,
        )
        for channel, address in targets
    ]


# --- changing one's preferences ---------------------------------------------

# Formats of the platform account ids (as documented by each platform): checked
# so that a typo is caught here rather than by a failed delivery.
ADDRESS_FORMATS: dict[str, re.Pattern[str]] = {
    Channel.WECHAT: re.compile(r"[A-Za-z0-9_-]{20,64}"),
    Channel.DINGTALK: re.compile(r"[A-Za-z0-9_-]{1,64}"),
    Channel.WECOM: re.compile(r"[A-Za-z0-9_.@-]{1,64}"),
}


def message_preferences_update(
    *,
    actor: User,
    channels: list[str],
    optional_messages: bool,
    language: str,
    addresses: Mapping[str, str | None],
    meta: RequestMeta | None = None,
) -> MessagePreference:
    """Change the actor's own message preferences.

    `addresses` maps wechat/dingtalk/wecom to a new account id, "" to remove it,
    or None to keep it. Every chosen channel must be offered here and reach the
    user; an unknown language or a malformed id is refused. Nothing is saved
    unless all of it is valid.
    """
    offered = available_channels()
    if len(set(channels)) != len(channels) or any(c not in offered for c in channels):
        raise ValidationError({"channels": _("Choose only channels from the list.")}, code="bad_channel")
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a language from the list.")}, code="bad_language")
    for channel, value in addresses.items():
        if channel not in MessagePreference.ADDRESS_FIELDS:
            raise ValidationError(_("Unknown messaging platform."), code="bad_platform")
        if value and not ADDRESS_FORMATS[channel].fullmatch(value):
            raise ValidationError(
                {MessagePreference.ADDRESS_FIELDS[channel]: _("This account id is not valid.")},
                code="bad_address",
            )
    with transaction.atomic():
        preference = MessagePreference.objects.select_for_update().filter(user=actor).first()
        if preference is None:
            preference = MessagePreference(user=actor)
        before = _audit_view(preference)
        for channel, value in addresses.items():
            if value is not None:
                setattr(preference, MessagePreference.ADDRESS_FIELDS[channel], value.strip())
        reachable = user_addresses(actor, preference)
        unreachable = [c for c in channels if not reachable[c]]
        if unreachable:
            labels = ", ".join(str(Channel(c).label) for c in unreachable)
            raise ValidationError(
                {"channels": _("We have no address for you on: %(channels)s.") % {"channels": labels}},
                code="no_address",
            )
        preference.channels = ",".join(channels)
        preference.optional_messages = optional_messages
        preference.language = language
        preference.updated_at = timezone.now()
        preference.save()
        audit_record(
            actor=actor,
            action="user.message_preferences_changed",
            obj=actor,
            before=before,
            after=_audit_view(preference),
            meta=meta,
        )
    return preference


def _audit_view(preference: MessagePreference) -> dict[str, object]:
    # The account ids are personal data: the audit log says only whether one is set.
    view: dict[str, object] = {
        "channels": preference.channel_list,
        "optional_messages": preference.optional_messages,
        "language": preference.language,
    }
    for channel, field_name in MessagePreference.ADDRESS_FIELDS.items():
        view[f"{channel}_account_set"] = bool(getattr(preference, field_name))
    return view
