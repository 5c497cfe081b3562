"""The Alibaba Cloud SMS adapter against a local fake of dysmsapi SendSms."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.conftest import Personas
from rendao.core.channels import PermanentError, TransientError, adapter_get, check_channel_routes
from rendao.core.channels.aliyun_sms.adapter import percent_encode, phone_number
from rendao.core.messages import message_render
from rendao.core.models import OutboxMessage
from rendao.core.outbox_delivery import message_deliver
from rendao.core.tests.fakes.aliyun import FakeAliyunSms

pytestmark = pytest.mark.django_db

MOBILE = "+8613812345678"


@pytest.fixture
def aliyun(settings: SettingsWrapper) -> Iterator[FakeAliyunSms]:
    with FakeAliyunSms() as fake:
        settings.CHANNEL_ROUTES = ["sms=aliyun_sms", "email=email", "console=console"]
        settings.ALIYUN_SMS_ENDPOINT = f"{fake.url}/"
        settings.ALIYUN_SMS_ACCESS_KEY_ID = fake.access_key_id
        settings.ALIYUN_SMS_ACCESS_KEY_SECRET = fake.secret
        settings.ALIYUN_SMS_SIGN_NAME = fake.sign_name
        settings.ALIYUN_SMS_TEMPLATES = ["signin_code:SMS_100001:code=code", "security_notice:SMS_100002"]
        yield fake


def _sms(kind: str = "signin_code", recipient: str = MOBILE, **context: str) -> OutboxMessage:
    context = context or {"code": "123456", "minutes": "5"}
    body = message_render(kind, context, "zh-hans").body
    return OutboxMessage.objects.create(
        channel="sms", recipient=recipient, kind=kind, body=body, params=json.dumps(context)
    )


def _send(message: OutboxMessage) -> str:
    return adapter_get("aliyun_sms").send(message).provider_id


def test_a_sign_in_code_goes_out_as_the_approved_template_with_its_code(aliyun: FakeAliyunSms) -> None:
    message = _sms()
    provider_id = _send(message)
    (sent,) = aliyun.sent
    assert sent == {
        "number": "13812345678",
        "template": "SMS_100001",
        "params": {"code": "123456"},
        "out_id": str(message.pk),
    }
    assert provider_id.endswith("^0")


def test_a_template_without_a_variable_map_gets_every_placeholder(aliyun: FakeAliyunSms) -> None:
    _send(_sms("security_notice", event="A new device signed in."))
    assert aliyun.sent[0]["params"] == {"event": "A new device signed in."}


def test_the_values_do_not_depend_on_the_language_of_the_body(aliyun: FakeAliyunSms) -> None:
    context = {"code": "654321", "minutes": "5"}
    body = message_render("signin_code", context, "en").body
    _send(
        OutboxMessage.objects.create(
            channel="sms", recipient=MOBILE, kind="signin_code", body=body, params=json.dumps(context)
        )
    )
    assert aliyun.sent[0]["params"] == {"code": "654321"}


def test_signing_in_by_sms_sends_the_code_through_aliyun(
    aliyun: FakeAliyunSms, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client(headers={"accept-language": "en"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:signin"), {"phone": "13800138000"})
    assert response.status_code == 302
    (sent,) = aliyun.sent
    assert sent["number"] == "13800138000"
    assert sent["template"] == "SMS_100001"
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.SENT
    # The code went to Alibaba Cloud and is no longer kept here.
    assert message.body == ""
    code = sent["params"]["code"]
    verify = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": code})
    assert verify.status_code == 302
    assert client.session.get("_auth_user_id") == str(personas.public.pk)


def test_a_wrong_secret_is_refused_by_the_signature_check(
    aliyun: FakeAliyunSms, settings: SettingsWrapper
) -> None:
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"
    with pytest.raises(PermanentError, match="SignatureDoesNotMatch"):
        _send(_sms())
    assert aliyun.sent == []


def test_an_unknown_access_key_is_given_up(aliyun: FakeAliyunSms, settings: SettingsWrapper) -> None:
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI-unknown"
    with pytest.raises(PermanentError, match=r"InvalidAccessKeyId\.NotFound"):
        _send(_sms())


def test_every_attempt_uses_a_fresh_nonce(aliyun: FakeAliyunSms) -> None:
    message = _sms()
    _send(message)
    _send(message)
    assert len(aliyun.nonces) == 2
    assert [s["out_id"] for s in aliyun.sent] == [str(message.pk)] * 2


def test_throttling_is_retried(aliyun: FakeAliyunSms) -> None:
    aliyun.throttle_next = 1
    with pytest.raises(TransientError, match=r"isv\.BUSINESS_LIMIT_CONTROL"):
        _send(_sms())


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_trouble_is_retried(aliyun: FakeAliyunSms, status: int) -> None:
    aliyun.status_next = status
    with pytest.raises(TransientError):
        _send(_sms())


def test_an_illegal_number_is_given_up(aliyun: FakeAliyunSms) -> None:
    aliyun.illegal_numbers.add("13812345678")
    with pytest.raises(PermanentError, match=r"isv\.MOBILE_NUMBER_ILLEGAL"):
        _send(_sms())


def test_a_template_not_approved_at_aliyun_is_given_up(
    aliyun: FakeAliyunSms, settings: SettingsWrapper
) -> None:
    settings.ALIYUN_SMS_TEMPLATES = ["signin_code:SMS_999999"]
    with pytest.raises(PermanentError, match=r"isv\.SMS_TEMPLATE_ILLEGAL"):
        _send(_sms())


def test_a_signature_name_not_approved_is_given_up(aliyun: FakeAliyunSms, settings: SettingsWrapper) -> None:
    settings.ALIYUN_SMS_SIGN_NAME = "别的签名"
    with pytest.raises(PermanentError, match=r"isv\.SMS_SIGNATURE_ILLEGAL"):
        _send(_sms())


def test_a_message_type_without_a_template_is_given_up_before_any_request(aliyun: FakeAliyunSms) -> None:
    message = _sms("news", title="Open day", summary="Come and visit.")
    with pytest.raises(PermanentError, match="no approved SMS template for message type 'news'"):
        _send(message)
    assert aliyun.received == []


def test_a_message_without_template_values_is_given_up(aliyun: FakeAliyunSms) -> None:
    message = OutboxMessage.objects.create(channel="sms", recipient=MOBILE, kind="signin_code", body="code 1")
    with pytest.raises(PermanentError, match="carries no template values"):
        _send(message)
    assert aliyun.received == []


def test_a_clock_far_off_is_refused_and_retried(aliyun: FakeAliyunSms) -> None:
    with (
        mock.patch("rendao.core.channels.http.clock", return_value=1_000_000_000.0),
        pytest.raises(TransientError, match=r"InvalidTimeStamp\.Expired"),
    ):
        _send(_sms())


def test_an_unreachable_gateway_is_retried(aliyun: FakeAliyunSms, settings: SettingsWrapper) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ALIYUN_SMS_ENDPOINT = f"http://127.0.0.1:{port}/"
    with pytest.raises(TransientError, match="could not reach the provider"):
        _send(_sms())


def test_no_error_text_contains_the_number(aliyun: FakeAliyunSms) -> None:
    errors: list[str] = []
    aliyun.illegal_numbers.add("13812345678")
    with pytest.raises(PermanentError) as refused:
        _send(_sms())
    errors.append(str(refused.value))
    aliyun.throttle_next = 1
    with pytest.raises(TransientError) as deferred:
        _send(_sms())
    errors.append(str(deferred.value))
    assert not any("13812345678" in e or "5678" in e for e in errors)


def test_a_throttled_message_is_retried_by_the_outbox_then_sent(aliyun: FakeAliyunSms) -> None:
    aliyun.throttle_next = 1
    message = _sms()
    assert message_deliver(message_id=message.pk) == OutboxMessage.Status.RETRYING
    message.refresh_from_db()
    assert message.last_error == "Alibaba Cloud SMS refused the message: isv.BUSINESS_LIMIT_CONTROL"
    assert message_deliver(message_id=message.pk, now=message.next_attempt_at) == OutboxMessage.Status.SENT
    assert len(aliyun.sent) == 1


def test_numbers_are_sent_as_aliyun_expects_them() -> None:
    assert phone_number("+8613812345678") == "13812345678"
    assert phone_number("+85291234567") == "85291234567"
    with pytest.raises(PermanentError):
        phone_number("alice@example.org")


def test_percent_encoding_follows_rfc_3986() -> None:
    assert percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


# --- start-up checks ---------------------------------------------------------


def test_a_route_to_aliyun_without_keys_stops_start_up(settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["sms=aliyun_sms"]
    settings.ALIYUN_SMS_ACCESS_KEY_ID = ""
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = ""
    settings.ALIYUN_SMS_SIGN_NAME = ""
    settings.ALIYUN_SMS_TEMPLATES = ["signin_code:SMS_1"]
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E121", "rendao.E122", "rendao.E123"]


@pytest.mark.parametrize(
    "templates",
    [
        ["signin_code"],
        ["nonsense:SMS_1"],
        ["signin_code:SMS_1:code=nope"],
        ["signin_code:SMS_1", "signin_code:SMS_2"],
    ],
)
def test_malformed_templates_stop_start_up(
    aliyun: FakeAliyunSms, settings: SettingsWrapper, templates: list[str]
) -> None:
    settings.ALIYUN_SMS_TEMPLATES = templates
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E125"]


def test_sms_through_aliyun_needs_a_sign_in_template(
    aliyun: FakeAliyunSms, settings: SettingsWrapper
) -> None:
    settings.ALIYUN_SMS_TEMPLATES = ["security_notice:SMS_100002"]
    assert [e.id for e in check_channel_routes(None)] == ["rendao.E126"]


def test_a_complete_configuration_passes(aliyun: FakeAliyunSms) -> None:
    assert check_channel_routes(None) == []
