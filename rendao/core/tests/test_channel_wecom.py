"""The WeCom (企业微信) adapter against a local fake of gettoken and message/send."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.core.channels import PermanentError, TransientError, adapter_get, check_channel_routes
from rendao.core.models import OutboxMessage
from rendao.core.tests.fakes.wecom import FakeWeCom

pytestmark = pytest.mark.django_db


@pytest.fixture
def wecom(settings: SettingsWrapper) -> Iterator[FakeWeCom]:
    with FakeWeCom() as fake:
        settings.CHANNEL_ROUTES = ["sms=console", "wecom=wecom"]
        settings.WECOM_API = fake.url
        settings.WECOM_CORP_ID = fake.corp_id
        settings.WECOM_CORP_SECRET = fake.corp_secret
        settings.WECOM_AGENT_ID = str(fake.agent_id)
        yield fake


def _message(
    recipient: str = "zhangsan", subject: str = "", body: str = "Training starts at 9:00."
) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="wecom", recipient=recipient, kind="news", subject=subject, body=body
    )


def _send(message: OutboxMessage) -> str:
    return adapter_get("wecom").send(message).provider_id


def test_a_text_message_reaches_the_member(wecom: FakeWeCom) -> None:
    assert _send(_message()) == "msg-1"
    (sent,) = wecom.delivered
    assert sent["touser"] == "zhangsan"
    assert sent["agentid"] == 1000002
    assert sent["msgtype"] == "text"
    assert sent["text"] == {"content": "Training starts at 9:00."}


def test_a_message_with_a_subject_is_a_text_card_linking_to_the_site(wecom: FakeWeCom) -> None:
    _send(_message(subject="First-aid training"))
    card = wecom.delivered[0]["textcard"]
    assert card == {
        "title": "First-aid training",
        "description": "Training starts at 9:00.",
        "url": "http://127.0.0.1:8000/my/",
    }


def test_the_token_is_cached_between_messages(wecom: FakeWeCom) -> None:
    _send(_message())
    _send(_message(body="Another one."))
    assert len(wecom.calls_to("/cgi-bin/gettoken")) == 1


def test_an_expired_token_is_refreshed_and_the_send_retried_once(wecom: FakeWeCom) -> None:
    _send(_message())
    wecom.expire_tokens()
    _send(_message(body="After expiry."))
    assert len(wecom.calls_to("/cgi-bin/gettoken")) == 2
    assert [d["text"]["content"] for d in wecom.delivered] == ["Training starts at 9:00.", "After expiry."]


def test_a_retry_of_the_same_message_is_dropped_by_the_duplicate_check(wecom: FakeWeCom) -> None:
    message = _message()
    _send(message)
    _send(message)
    assert len(wecom.delivered) == 1
    assert len(wecom.calls_to("/cgi-bin/message/send")) == 2


def test_an_unknown_member_is_given_up(wecom: FakeWeCom) -> None:
    with pytest.raises(PermanentError, match="errcode 81013"):
        _send(_message(recipient="stranger"))


@pytest.mark.parametrize("recipient", ["@all", "zhangsan|lisi", ""])
def test_a_recipient_that_is_not_one_member_is_refused_before_any_request(
    wecom: FakeWeCom, recipient: str
) -> None:
    with pytest.raises(PermanentError, match="not one WeCom user id"):
        _send(_message(recipient=recipient))
    assert wecom.received == []


def test_throttling_is_retried(wecom: FakeWeCom) -> None:
    wecom.busy_next = 1
    with pytest.raises(TransientError, match="errcode 45009"):
        _send(_message())


@pytest.mark.parametrize(("setting", "code"), [("WECOM_CORP_ID", "40013"), ("WECOM_CORP_SECRET", "40001")])
def test_wrong_credentials_are_given_up(
    wecom: FakeWeCom, settings: SettingsWrapper, setting: str, code: str
) -> None:
    setattr(settings, setting, "wrong")
    with pytest.raises(PermanentError, match=f"errcode {code}"):
        _send(_message())


def test_a_wrong_agent_id_is_given_up(wecom: FakeWeCom, settings: SettingsWrapper) -> None:
    settings.WECOM_AGENT_ID = "7"
    with pytest.raises(PermanentError, match="errcode 40056"):
        _send(_message())


def test_no_error_text_contains_the_member(wecom: FakeWeCom) -> None:
    with pytest.raises(PermanentError) as refused:
        _send(_message(recipient="stranger"))
    assert "stranger" not in str(refused.value)


def test_a_route_to_wecom_without_settings_stops_start_up(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["wecom=wecom"]
    settings.WECOM_CORP_ID = settings.WECOM_CORP_SECRET = settings.WECOM_AGENT_ID = ""
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E141", "rendao.E142", "rendao.E143"]


def test_a_complete_wecom_configuration_passes(wecom: FakeWeCom) -> None:
    assert check_channel_routes(None) == []
