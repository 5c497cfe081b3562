"""Message channels: adapters behind one interface, and the routes to them.

Callers write an `OutboxMessage` to a *logical* channel ("sms", "email", later
"dingtalk", "wecom", "wechat"). `settings.CHANNEL_ROUTES` (RENDAO_CHANNEL_ROUTES)
maps each logical channel to an *adapter*, one folder per adapter under this
package with the same files (see README.md for the checklist). The delivery task
(rendao.core.outbox_delivery) is the only caller of `Channel.send`.

Adapters raise `TransientError` for failures worth retrying (timeouts, 4xx SMTP
replies, a provider's rate limit) and `PermanentError` for hopeless ones (an
invalid address, a refused recipient). The text of either goes into the outbox
row's `last_error` and the log, so it must never contain the recipient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from rendao.core.masking import mask_mobile

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage


class ChannelError(Exception):
    """A delivery failed. The message text must not contain the recipient."""


class TransientError(ChannelError):
    """The send failed but may succeed later: the message is retried with backoff."""


class PermanentError(ChannelError):
    """The send can never succeed as written: the message is given up at once."""


@dataclass(frozen=True)
class DeliveryResult:
    """What a channel reports after accepting a message."""

    # The provider's own id for the message, if it gives one (for support tickets).
    provider_id: str = ""


class Channel(Protocol):
    """The interface every adapter implements."""

    name: str

    def send(self, message: OutboxMessage) -> DeliveryResult:
        """Hand `message` to the provider, passing `str(message.pk)` as the
        idempotency key wherever the provider accepts one, so that a retry after a
        crash is recognised as the same message at the receiving end.

        Raise TransientError or PermanentError on failure; return on acceptance.
        """
        ...

    def check_settings(self) -> list[CheckMessage]:
        """System-check messages about this adapter's configuration."""
        ...


# Adapter name → dotted path of its class. Adding an adapter adds one line here.
ADAPTERS: dict[str, str] = {
    "console": "rendao.core.channels.console.adapter.ConsoleChannel",
    "email": "rendao.core.channels.email.adapter.EmailChannel",
    "aliyun_sms": "rendao.core.channels.aliyun_sms.adapter.AliyunSmsChannel",
    "dingtalk": "rendao.core.channels.dingtalk.adapter.DingTalkChannel",
    "dingtalk_robot": "rendao.core.channels.dingtalk.adapter.DingTalkRobotChannel",
    "wecom": "rendao.core.channels.wecom.adapter.WeComChannel",
    "wechat_mp": "rendao.core.channels.wechat_mp.adapter.WeChatMpChannel",
}


class RouteError(ValueError):
    """RENDAO_CHANNEL_ROUTES holds an entry that is not channel=adapter."""


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
_PHONE = re.compile(r"^\+?[0-9 -]{3,20}$")


def channel_routes() -> dict[str, str]:
    """Logical channel → adapter name, from settings.CHANNEL_ROUTES.

    Read on every call (it is a handful of strings) so that tests can override
    the setting.
    """
    routes: dict[str, str] = {}
    for entry in settings.CHANNEL_ROUTES:
        channel, sep, adapter = (part.strip() for part in entry.partition("="))
        if not sep or not _NAME.match(channel) or not _NAME.match(adapter):
            raise RouteError(f"{entry!r} is not of the form channel=adapter")
        if channel in routes:
            raise RouteError(f"channel {channel!r} is routed twice")
        routes[channel] = adapter
    return routes


def adapter_get(name: str) -> Channel:
    """An instance of the adapter called `name`; KeyError if there is none."""
    adapter: Channel = import_string(ADAPTERS[name])()
    return adapter


def adapter_for_channel(channel: str) -> Channel:
    """The adapter that delivers the logical `channel`.

    A channel without a route, or routed to an adapter that does not exist, can
    never be delivered: PermanentError, so the message is given up with a reason
    a staff member can read on the outbox page.
    """
    adapter = channel_routes().get(channel)
    if adapter is None:
        raise PermanentError(f"no route for channel {channel!r} in RENDAO_CHANNEL_ROUTES")
    if adapter not in ADAPTERS:
        raise PermanentError(f"channel {channel!r} is routed to unknown adapter {adapter!r}")
    return adapter_get(adapter)


def mask_recipient(recipient: str) -> str:
    """A recipient as it may be shown or logged: 138****5678, a***@example.org.

    Mobile numbers are masked as everywhere else on the platform
    (rendao.core.masking). Idempotent, so that the already masked recipient of a
    forgotten message stays as it is.
    """
    if "*" in recipient:
        return recipient
    if "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if _PHONE.match(recipient):
        return mask_mobile(recipient)
    if len(recipient) >= 8:
        # Account ids of messaging platforms: a recognisable head and tail only.
        return f"{recipient[:3]}****{recipient[-4:]}"
    # Too short to hide part of it and still be safe: hide all of it.
    return "****"


@register()
def check_channel_routes(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Every route names a known adapter whose own settings are complete."""
    try:
        routes = channel_routes()
    except RouteError as exc:
        return [
            Error(
                f"RENDAO_CHANNEL_ROUTES: {exc}.",
                hint="Use comma-separated channel=adapter pairs, e.g. sms=console,email=email.",
                id="rendao.E101",
            )
        ]
    errors: list[CheckMessage] = []
    for channel, adapter in sorted(routes.items()):
        if adapter not in ADAPTERS:
            errors.append(
                Error(
                    f"RENDAO_CHANNEL_ROUTES sends channel {channel!r} to unknown adapter {adapter!r}.",
                    hint=f"Known adapters: {', '.join(sorted(ADAPTERS))}.",
                    id="rendao.E102",
                )
            )
    # Only adapters in use need their settings: an unused adapter may be unconfigured.
    for adapter in sorted(set(routes.values()) & set(ADAPTERS)):
        errors.extend(adapter_get(adapter).check_settings())
    return errors
