"""Channel adapters, their routes, and the start-up checks on them."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.core.channels import (
    ADAPTERS,
    PermanentError,
    TransientError,
    adapter_for_channel,
    adapter_get,
    channel_routes,
    check_channel_routes,
    mask_recipient,
)
from rendao.core.channels.email.adapter import message_id_header
from rendao.core.models import OutboxMessage

pytestmark = pytest.mark.django_db

MOBILE = "+8613812345678"


def _message(**fields: Any) -> OutboxMessage:
    defaults: dict[str, Any] = {
        "channel": "sms",
        "recipient": MOBILE,
        "kind": "signin_code",
        "body": "code 123456",
    }
    return OutboxMessage.objects.create(**{**defaults, **fields})


def _ids(messages: Sequence[Any]) -> list[str]:
    return [m.id for m in messages]


class FailingBackend(BaseEmailBackend):
    """An email backend that fails the way an SMTP server would."""

    error: ClassVar[Exception | None] = None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if self.error is not None:
            raise self.error
        return 0


@pytest.fixture
def failing_backend(settings: SettingsWrapper) -> Iterator[type[FailingBackend]]:
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    yield FailingBackend
    FailingBackend.error = None


# --- masking -----------------------------------------------------------------


def test_a_mobile_number_is_masked_like_everywhere_else() -> None:
    assert mask_recipient(MOBILE) == "138****5678"


def test_an_email_address_keeps_only_its_first_letter_and_domain() -> None:
    assert mask_recipient("alice@example.org") == "a***@example.org"


def test_masking_twice_changes_nothing() -> None:
    for value in (MOBILE, "alice@example.org", "wx_openid_0123456789", "abc"):
        once = mask_recipient(value)
        assert mask_recipient(once) == once


def test_a_short_recipient_is_hidden_entirely() -> None:
    assert mask_recipient("abc") == "****"


def test_a_platform_account_id_shows_only_head_and_tail() -> None:
    assert mask_recipient("wx_openid_0123456789") == "wx_****6789"


# --- routes ------------------------------------------------------------------


def test_the_default_routes_send_sms_to_the_console() -> None:
    assert channel_routes() == {"sms": "console", "email": "email", "console": "console"}
    assert adapter_for_channel("sms").name == "console"
    assert adapter_for_channel("email").name == "email"


def test_a_channel_without_a_route_cannot_be_delivered() -> None:
    with pytest.raises(PermanentError, match="no route for channel 'dingtalk'"):
        adapter_for_channel("dingtalk")


def test_a_channel_routed_to_an_unknown_adapter_cannot_be_delivered(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["sms=aliyun"]
    with pytest.raises(PermanentError, match="unknown adapter 'aliyun'"):
        adapter_for_channel("sms")


def test_every_adapter_has_the_same_shape() -> None:
    for name in ADAPTERS:
        adapter = adapter_get(name)
        assert adapter.name == name
        assert isinstance(adapter.check_settings(), list)


# --- system checks -----------------------------------------------------------


def test_the_default_configuration_passes_the_checks() -> None:
    assert check_channel_routes(None) == []


def test_a_route_to_an_unknown_adapter_is_an_error_at_start_up(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["sms=aliyun", "email=email"]
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E102"]
    with pytest.raises(SystemCheckError, match="unknown adapter 'aliyun'"):
        call_command("check")


@pytest.mark.parametrize("routes", [["sms"], ["sms=console", "sms=email"], ["SMS=console"], ["=console"]])
def test_a_malformed_route_is_an_error_at_start_up(settings: SettingsWrapper, routes: list[str]) -> None:
    settings.CHANNEL_ROUTES = routes
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E101"]


def test_an_email_route_without_an_smtp_host_is_an_error(settings: SettingsWrapper) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E112"]


def test_an_invalid_sender_address_is_an_error(settings: SettingsWrapper) -> None:
    settings.DEFAULT_FROM_EMAIL = "not an address"
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E111"]


def test_email_printed_to_the_console_in_production_is_an_error(settings: SettingsWrapper) -> None:
    settings.RENDAO_ENV = "production"
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E113"]


def test_an_unused_adapter_need_not_be_configured(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["sms=console"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    assert check_channel_routes(None) == []


# --- console -----------------------------------------------------------------


def test_the_console_logs_the_body_and_a_masked_recipient(caplog: pytest.LogCaptureFixture) -> None:
    message = _message()
    with caplog.at_level(logging.INFO, logger="rendao.outbox"):
        result = adapter_get("console").send(message)
    assert "code 123456" in caplog.text
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text
    assert result.provider_id == f"console:{message.pk}"


# --- email -------------------------------------------------------------------


def test_email_is_sent_through_the_configured_backend() -> None:
    message = _message(channel="email", recipient="alice@example.org", subject="Receipt", body="Thank you")
    adapter_get("email").send(message)
    (sent,) = mail.outbox
    assert sent.to == ["alice@example.org"]
    assert sent.subject == "Receipt"
    assert sent.body == "Thank you"
    assert sent.extra_headers["X-Rendao-Outbox-Id"] == str(message.pk)


def test_every_attempt_of_one_message_carries_the_same_message_id() -> None:
    message = _message(channel="email", recipient="alice@example.org")
    adapter = adapter_get("email")
    adapter.send(message)
    adapter.send(message)
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] == f"<outbox.{message.pk}@127.0.0.1>"
    assert message_id_header(message) == first.extra_headers["Message-ID"]


def test_the_message_id_differs_between_messages() -> None:
    a = _message(channel="email", recipient="alice@example.org")
    b = _message(channel="email", recipient="alice@example.org")
    assert message_id_header(a) != message_id_header(b)


def test_a_newline_in_the_subject_does_not_reach_the_headers() -> None:
    message = _message(channel="email", recipient="alice@example.org", subject="Hi\nBcc: eve@example.org")
    adapter_get("email").send(message)
    assert mail.outbox[0].subject == "Hi Bcc: eve@example.org"
    assert "eve@example.org" not in mail.outbox[0].recipients()


@pytest.mark.parametrize("recipient", ["", "alice", "alice@", "+8613812345678", "a b@example.org"])
def test_an_invalid_address_is_a_permanent_failure(recipient: str) -> None:
    message = _message(channel="email", recipient=recipient)
    with pytest.raises(PermanentError, match="not a valid email address"):
        adapter_get("email").send(message)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (smtplib.SMTPRecipientsRefused({"alice@example.org": (550, b"no such user")}), PermanentError),
        (smtplib.SMTPRecipientsRefused({"alice@example.org": (450, b"mailbox busy")}), TransientError),
        (smtplib.SMTPDataError(554, b"rejected"), PermanentError),
        (smtplib.SMTPDataError(451, b"try later"), TransientError),
        (smtplib.SMTPSenderRefused(421, b"too many", "rendao@localhost"), TransientError),
        (smtplib.SMTPServerDisconnected("alice@example.org went away"), TransientError),
        (ConnectionRefusedError(111, "refused"), TransientError),
        (TimeoutError("timed out"), TransientError),
    ],
)
def test_smtp_failures_are_sorted_into_transient_and_permanent(
    failing_backend: type[FailingBackend], error: Exception, expected: type[Exception]
) -> None:
    failing_backend.error = error
    message = _message(channel="email", recipient="alice@example.org")
    with pytest.raises(expected) as info:
        adapter_get("email").send(message)
    # The server's reply quotes the address; the error we keep must not.
    assert "alice" not in str(info.value)


def test_a_backend_that_sends_nothing_is_a_transient_failure(failing_backend: type[FailingBackend]) -> None:
    message = _message(channel="email", recipient="alice@example.org")
    with pytest.raises(TransientError, match="accepted no message"):
        adapter_get("email").send(message)
