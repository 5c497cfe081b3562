"""Per-adapter rate limits at delivery: over the limit a message waits, it does not fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.core.models import OutboxMessage
from rendao.core.outbox_delivery import check_rate_limits, message_deliver, rate_limit_wait, rate_limits

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status
# A fixed instant at the start of a minute, so the windows below are exact.
T0 = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _limits(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["sms=console", "email=email", "console=console"]
    settings.CHANNEL_RATE_LIMITS = ["console=2/m"]


def _queued(count: int, channel: str = "sms") -> list[OutboxMessage]:
    return [
        OutboxMessage.objects.create(
            channel=channel, recipient="+8613812345678", kind="news", body=f"m{i}", next_attempt_at=T0
        )
        for i in range(count)
    ]


def test_messages_within_the_limit_are_sent() -> None:
    first, second = _queued(2)
    assert message_deliver(message_id=first.pk, now=T0) == Status.SENT
    assert message_deliver(message_id=second.pk, now=T0 + timedelta(seconds=30)) == Status.SENT


def test_a_message_over_the_limit_waits_for_the_next_window_without_counting_an_attempt() -> None:
    *sent, third = _queued(3)
    for message in sent:
        message_deliver(message_id=message.pk, now=T0)
    assert message_deliver(message_id=third.pk, now=T0 + timedelta(seconds=10)) == Status.RETRYING
    third.refresh_from_db()
    assert third.status == Status.RETRYING
    assert third.attempts == 0
    assert third.next_attempt_at == T0 + timedelta(minutes=1)
    assert third.claimed_at is None
    assert third.last_error == "waiting for the rate limit of console"
    # Not due before the window ends; sent once it has.
    assert message_deliver(message_id=third.pk, now=T0 + timedelta(seconds=59)) == ""
    assert message_deliver(message_id=third.pk, now=T0 + timedelta(minutes=1)) == Status.SENT
    third.refresh_from_db()
    assert third.attempts == 1


def test_a_postponed_message_is_never_given_up_for_it(settings: SettingsWrapper) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 1
    settings.CHANNEL_RATE_LIMITS = ["console=1/m"]
    first, second = _queued(2)
    message_deliver(message_id=first.pk, now=T0)
    for minute in range(3):
        # Each window, a third message takes the only slot first.
        (hog,) = _queued(1)
        message_deliver(message_id=hog.pk, now=T0 + timedelta(minutes=minute + 1))
        message_deliver(message_id=second.pk, now=T0 + timedelta(minutes=minute + 1))
    second.refresh_from_db()
    assert second.status == Status.RETRYING
    assert second.attempts == 0


def test_limits_are_per_adapter(settings: SettingsWrapper) -> None:
    settings.CHANNEL_RATE_LIMITS = ["console=1/m"]
    sms, other_sms = _queued(2)
    (mail,) = _queued(1, channel="email")
    OutboxMessage.objects.filter(pk=mail.pk).update(recipient="alice@example.org")
    assert message_deliver(message_id=sms.pk, now=T0) == Status.SENT
    assert message_deliver(message_id=mail.pk, now=T0) == Status.SENT
    assert message_deliver(message_id=other_sms.pk, now=T0) == Status.RETRYING


def test_an_adapter_without_a_limit_is_not_counted(settings: SettingsWrapper) -> None:
    settings.CHANNEL_RATE_LIMITS = []
    assert all(message_deliver(message_id=m.pk, now=T0) == Status.SENT for m in _queued(5))


def test_the_count_is_shared_through_the_cache() -> None:
    # Two "processes" share the cache: the third send in the window is refused
    # whichever of them asks.
    assert rate_limit_wait("console", T0) is None
    assert rate_limit_wait("console", T0 + timedelta(seconds=1)) is None
    assert rate_limit_wait("console", T0 + timedelta(seconds=2)) == T0 + timedelta(minutes=1)
    assert rate_limit_wait("console", T0 + timedelta(minutes=1)) is None


def test_per_second_and_per_hour_windows(settings: SettingsWrapper) -> None:
    settings.CHANNEL_RATE_LIMITS = ["dingtalk=1/s", "wecom=1/h"]
    assert rate_limits() == {"dingtalk": (1, 1), "wecom": (1, 3600)}
    assert rate_limit_wait("dingtalk", T0) is None
    assert rate_limit_wait("dingtalk", T0 + timedelta(milliseconds=500)) == T0 + timedelta(seconds=1)
    assert rate_limit_wait("wecom", T0) is None
    assert rate_limit_wait("wecom", T0 + timedelta(minutes=59)) == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    "limits",
    [
        ["console"],
        ["console=0/m"],
        ["console=5/d"],
        ["console=5/m", "console=6/m"],
        ["Console=5/m"],
        ["console=x/m"],
    ],
)
def test_a_malformed_limit_stops_start_up(settings: SettingsWrapper, limits: list[str]) -> None:
    settings.CHANNEL_RATE_LIMITS = limits
    assert [e.id for e in check_rate_limits(None)] == ["rendao.E103"]


def test_a_limit_for_an_unknown_adapter_stops_start_up(settings: SettingsWrapper) -> None:
    settings.CHANNEL_RATE_LIMITS = ["aliyun=5/m"]
    assert [e.id for e in check_rate_limits(None)] == ["rendao.E104"]


def test_the_default_and_the_production_limits_pass(settings: SettingsWrapper) -> None:
    assert check_rate_limits(None) == []
    settings.CHANNEL_RATE_LIMITS = ["aliyun_sms=60/m", "dingtalk=20/s", "dingtalk_robot=18/m", "wecom=20/s"]
    assert check_rate_limits(None) == []
