"""The WeChat official-account adapter against a local fake of stable_token and template/send."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.core.channels import PermanentError, TransientError, adapter_get, check_channel_routes
from rendao.core.messages import message_render
from rendao.core.models import OutboxMessage
from rendao.core.tests.fakes.wechat import FOLLOWER, UNFOLLOWED, FakeWeChat

pytestmark = pytest.mark.django_db

REMINDER = {
    "activity": "社区急救培训",
    "starts_at": "2025-06-01 09:00",
    "url": "https://rendao.example.org/a/7",
}


@pytest.fixture
def wechat(settings: SettingsWrapper) -> Iterator[FakeWeChat]:
    with FakeWeChat() as fake:
        settings.CHANNEL_ROUTES = ["sms=console", "wechat=wechat_mp"]
        settings.WECHAT_MP_API = fake.url
        settings.WECHAT_MP_APP_ID = fake.app_id
        settings.WECHAT_MP_APP_SECRET = fake.app_secret
        settings.WECHAT_MP_TEMPLATES = ["activity_reminder:tmpl-reminder:thing1=activity|time2=starts_at"]
        yield fake


def _reminder(recipient: str = FOLLOWER, kind: str = "activity_reminder") -> OutboxMessage:
    rendered = message_render("activity_reminder", REMINDER, "zh-hans")
    return OutboxMessage.objects.create(
        channel="wechat",
        recipient=recipient,
        kind=kind,
        subject=rendered.subject,
        body=rendered.body,
        params=json.dumps(REMINDER),
    )


def _send(message: OutboxMessage) -> str:
    return adapter_get("wechat_mp").send(message).provider_id


def test_a_reminder_is_sent_as_the_template_with_its_values(wechat: FakeWeChat) -> None:
    message = _reminder()
    assert _send(message) == "200228333"
    (sent,) = wechat.delivered
    assert sent == {
        "touser": FOLLOWER,
        "template_id": "tmpl-reminder",
        "url": "https://rendao.example.org/a/7",
        "data": {"thing1": {"value": "社区急救培训"}, "time2": {"value": "2025-06-01 09:00"}},
        "client_msg_id": str(message.pk),
    }


def test_a_retry_with_the_same_outbox_id_is_not_sent_twice(wechat: FakeWeChat) -> None:
    message = _reminder()
    first = _send(message)
    assert _send(message) == first
    assert len(wechat.delivered) == 1


def test_the_token_is_cached_between_messages(wechat: FakeWeChat) -> None:
    _send(_reminder())
    _send(_reminder())
    assert len(wechat.calls_to("/cgi-bin/stable_token")) == 1


def test_an_expired_token_is_force_refreshed_and_the_send_retried_once(wechat: FakeWeChat) -> None:
    _send(_reminder())
    wechat.expire_tokens()
    _send(_reminder())
    token_calls = wechat.calls_to("/cgi-bin/stable_token")
    assert [c.json()["force_refresh"] for c in token_calls] == [False, True]
    assert len(wechat.delivered) == 2


def test_a_follower_who_left_is_given_up(wechat: FakeWeChat) -> None:
    with pytest.raises(PermanentError, match="errcode 43004"):
        _send(_reminder(recipient=UNFOLLOWED))


def test_an_unknown_openid_is_given_up(wechat: FakeWeChat) -> None:
    with pytest.raises(PermanentError, match="errcode 40003"):
        _send(_reminder(recipient="oWx_nobody_000000000000000"))


def test_a_template_id_wechat_does_not_know_is_given_up(
    wechat: FakeWeChat, settings: SettingsWrapper
) -> None:
    settings.WECHAT_MP_TEMPLATES = ["activity_reminder:tmpl-gone:thing1=activity|time2=starts_at"]
    with pytest.raises(PermanentError, match="errcode 40037"):
        _send(_reminder())


def test_data_keys_the_template_lacks_are_given_up(wechat: FakeWeChat, settings: SettingsWrapper) -> None:
    settings.WECHAT_MP_TEMPLATES = ["activity_reminder:tmpl-reminder"]
    with pytest.raises(PermanentError, match="errcode 47003"):
        _send(_reminder())


def test_a_type_without_a_template_is_given_up_before_any_request(wechat: FakeWeChat) -> None:
    message = OutboxMessage.objects.create(channel="wechat", recipient=FOLLOWER, kind="news", body="x")
    with pytest.raises(PermanentError, match="no WeChat template for message type 'news'"):
        _send(message)
    assert wechat.received == []


def test_quota_exhaustion_is_retried(wechat: FakeWeChat) -> None:
    wechat.busy_next = 1
    with pytest.raises(TransientError, match="errcode 45009"):
        _send(_reminder())


def test_wrong_credentials_are_given_up(wechat: FakeWeChat, settings: SettingsWrapper) -> None:
    settings.WECHAT_MP_APP_SECRET = "wrong"
    with pytest.raises(PermanentError, match="errcode 40125"):
        _send(_reminder())


def test_no_error_text_contains_the_openid(wechat: FakeWeChat) -> None:
    with pytest.raises(PermanentError) as refused:
        _send(_reminder(recipient=UNFOLLOWED))
    assert UNFOLLOWED not in str(refused.value)


def test_a_route_to_wechat_without_settings_stops_start_up(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["wechat=wechat_mp"]
    settings.WECHAT_MP_APP_ID = settings.WECHAT_MP_APP_SECRET = ""
    settings.WECHAT_MP_TEMPLATES = []
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E151", "rendao.E152", "rendao.E155"]


def test_malformed_wechat_templates_stop_start_up(wechat: FakeWeChat, settings: SettingsWrapper) -> None:
    settings.WECHAT_MP_TEMPLATES = ["activity_reminder:tmpl:thing1=nope"]
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E154"]


def test_a_complete_wechat_configuration_passes(wechat: FakeWeChat) -> None:
    assert check_channel_routes(None) == []
