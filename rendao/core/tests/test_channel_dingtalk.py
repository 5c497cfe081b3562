"""The DingTalk adapters (work notification, signed group robot) against a local fake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from unittest import mock

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.core.channels import PermanentError, TransientError, adapter_get, check_channel_routes
from rendao.core.channels.dingtalk.adapter import robot_sign
from rendao.core.models import OutboxMessage
from rendao.core.tests.fakes.dingtalk import FakeDingTalk

pytestmark = pytest.mark.django_db

USER_ID = "manager4220"


@pytest.fixture
def dingtalk(settings: SettingsWrapper) -> Iterator[FakeDingTalk]:
    with FakeDingTalk() as fake:
        settings.CHANNEL_ROUTES = ["sms=console", "dingtalk=dingtalk", "dingtalk_group=dingtalk_robot"]
        settings.DINGTALK_API = fake.url
        settings.DINGTALK_APP_KEY = fake.app_key
        settings.DINGTALK_APP_SECRET = fake.app_secret
        settings.DINGTALK_AGENT_ID = str(fake.agent_id)
        settings.DINGTALK_ROBOT_TOKEN = fake.robot_token
        settings.DINGTALK_ROBOT_SECRET = fake.robot_secret
        yield fake


def _note(
    recipient: str = USER_ID, subject: str = "", body: str = "A new aid application waits for you."
) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="dingtalk", recipient=recipient, kind="news", subject=subject, body=body
    )


def _group(body: str = "Disaster drill at 15:00.") -> OutboxMessage:
    return OutboxMessage.objects.create(channel="dingtalk_group", recipient="office", kind="news", body=body)


# --- work notifications --------------------------------------------------------


def test_a_work_notification_reaches_the_user_through_the_corp_app(dingtalk: FakeDingTalk) -> None:
    result = adapter_get("dingtalk").send(_note(subject="Aid application"))
    (sent,) = dingtalk.notifications
    assert sent == {
        "agent_id": 2001,
        "userid_list": USER_ID,
        "msg": {
            "msgtype": "text",
            "text": {"content": "Aid application\nA new aid application waits for you."},
        },
    }
    assert result.provider_id.startswith("dingtalk-task:")


def test_the_access_token_is_fetched_once_and_reused(dingtalk: FakeDingTalk) -> None:
    adapter_get("dingtalk").send(_note())
    adapter_get("dingtalk").send(_note())
    assert len(dingtalk.calls_to("/gettoken")) == 1
    assert len(dingtalk.notifications) == 2


def test_a_token_past_its_lifetime_is_fetched_again(dingtalk: FakeDingTalk) -> None:
    adapter_get("dingtalk").send(_note())
    with mock.patch("rendao.core.channels.http.clock", return_value=time.time() + 7200):
        adapter_get("dingtalk").send(_note())
    assert len(dingtalk.calls_to("/gettoken")) == 2


def test_an_expired_token_is_refreshed_and_the_send_retried_once(dingtalk: FakeDingTalk) -> None:
    adapter_get("dingtalk").send(_note())
    dingtalk.expire_tokens()
    adapter_get("dingtalk").send(_note())
    assert len(dingtalk.calls_to("/gettoken")) == 2
    assert len(dingtalk.notifications) == 2


def test_wrong_app_credentials_are_given_up(dingtalk: FakeDingTalk, settings: SettingsWrapper) -> None:
    settings.DINGTALK_APP_SECRET = "wrong"
    with pytest.raises(PermanentError, match="refused the app credentials"):
        adapter_get("dingtalk").send(_note())


def test_throttling_is_retried(dingtalk: FakeDingTalk) -> None:
    dingtalk.busy_next = 1
    with pytest.raises(TransientError, match="errcode 90018"):
        adapter_get("dingtalk").send(_note())


def test_a_wrong_agent_id_is_given_up(dingtalk: FakeDingTalk, settings: SettingsWrapper) -> None:
    settings.DINGTALK_AGENT_ID = "9"
    with pytest.raises(PermanentError, match="errcode 40035"):
        adapter_get("dingtalk").send(_note())


@pytest.mark.parametrize("recipient", ["", "a,b"])
def test_a_recipient_that_is_not_one_user_is_refused_before_any_request(
    dingtalk: FakeDingTalk, recipient: str
) -> None:
    with pytest.raises(PermanentError, match="not one DingTalk user id"):
        adapter_get("dingtalk").send(_note(recipient=recipient))
    assert dingtalk.received == []


def test_no_error_text_contains_the_user_id(dingtalk: FakeDingTalk, settings: SettingsWrapper) -> None:
    settings.DINGTALK_AGENT_ID = "9"
    with pytest.raises(PermanentError) as refused:
        adapter_get("dingtalk").send(_note())
    assert USER_ID not in str(refused.value)


# --- group robot -------------------------------------------------------------


def test_the_robot_posts_to_its_group_with_a_valid_signature(dingtalk: FakeDingTalk) -> None:
    adapter_get("dingtalk_robot").send(_group())
    assert dingtalk.robot_posts == [{"msgtype": "text", "text": {"content": "Disaster drill at 15:00."}}]
    (call,) = dingtalk.calls_to("/robot/send")
    assert call.query["sign"] == robot_sign(int(call.query["timestamp"]), dingtalk.robot_secret)


def test_the_robot_signature_matches_dingtalks_documented_recipe() -> None:
    # Computed independently with:
    #   printf '1577836800000\nSECabc' | openssl dgst -sha256 -hmac SECabc -binary | base64
    assert robot_sign(1577836800000, "SECabc") == "u2P4poOf3lkvTxhssKEUFLdQMNQCMWCzdFRy9n4Pom4="


def test_a_wrong_robot_secret_is_refused(dingtalk: FakeDingTalk, settings: SettingsWrapper) -> None:
    settings.DINGTALK_ROBOT_SECRET = "SEC-wrong"
    with pytest.raises(PermanentError, match="errcode 310000"):
        adapter_get("dingtalk_robot").send(_group())
    assert dingtalk.robot_posts == []


def test_a_clock_more_than_an_hour_off_is_refused(dingtalk: FakeDingTalk) -> None:
    with (
        mock.patch("rendao.core.channels.http.clock", return_value=time.time() - 2 * 3600),
        pytest.raises(PermanentError, match="errcode 310000"),
    ):
        adapter_get("dingtalk_robot").send(_group())


def test_a_clock_a_little_off_is_accepted(dingtalk: FakeDingTalk) -> None:
    with mock.patch("rendao.core.channels.http.clock", return_value=time.time() - 30 * 60):
        adapter_get("dingtalk_robot").send(_group())
    assert len(dingtalk.robot_posts) == 1


def test_a_robot_posting_too_fast_is_retried(dingtalk: FakeDingTalk) -> None:
    dingtalk.busy_next = 1
    with pytest.raises(TransientError, match="errcode 410100"):
        adapter_get("dingtalk_robot").send(_group())


def test_an_unknown_robot_token_is_given_up(dingtalk: FakeDingTalk, settings: SettingsWrapper) -> None:
    settings.DINGTALK_ROBOT_TOKEN = "gone"
    with pytest.raises(PermanentError, match="errcode 300001"):
        adapter_get("dingtalk_robot").send(_group())


# --- start-up checks -------------------------------------------------------------


def test_routes_to_dingtalk_without_settings_stop_start_up(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["dingtalk=dingtalk", "dingtalk_group=dingtalk_robot"]
    settings.DINGTALK_APP_KEY = settings.DINGTALK_APP_SECRET = settings.DINGTALK_AGENT_ID = ""
    settings.DINGTALK_ROBOT_TOKEN = settings.DINGTALK_ROBOT_SECRET = ""
    ids = [e.id for e in check_channel_routes(None)]
    assert ids == ["rendao.E131", "rendao.E132", "rendao.E133", "rendao.E135", "rendao.E136"]


def test_a_dingtalk_api_that_is_not_http_stops_start_up(
    dingtalk: FakeDingTalk, settings: SettingsWrapper
) -> None:
    settings.DINGTALK_API = "file:///etc"
    assert "rendao.E134" in [e.id for e in check_channel_routes(None)]


def test_a_complete_dingtalk_configuration_passes(dingtalk: FakeDingTalk) -> None:
    assert check_channel_routes(None) == []
