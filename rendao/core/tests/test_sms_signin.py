"""Public sign-in with a mobile number and a one-time SMS code."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.core.middleware import SIGNED_IN_AT
from rendao.core.models import AuditEvent, LoginAttempt, OutboxMessage, SignInCode, User
from rendao.core.services import accounts
from rendao.privacy.fields import index_for

pytestmark = pytest.mark.django_db

META = RequestMeta(ip="203.0.113.7", user_agent="test")
WRONG_OR_EXPIRED = "The code is not correct or has expired. Please request a new code."


def english_client(**kwargs: object) -> Client:
    # English so the assertions read the msgids whatever translations exist.
    return Client(headers={"accept-language": "en"}, **kwargs)  # type: ignore[arg-type]


def last_code() -> str:
    message = OutboxMessage.objects.filter(kind="signin_code").order_by("-created_at").first()
    assert message is not None
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def send(client: Client, phone: str) -> None:
    response = client.post(reverse("core:signin"), {"phone": phone})
    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("core:signin_verify")


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return None if value is None else str(value)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_code_goes_through_the_outbox_and_only_digests_are_stored(personas: Personas) -> None:
    client = english_client()
    send(client, "+86 138 0013 8000")

    row = SignInCode.objects.get()
    message = OutboxMessage.objects.get()
    code = last_code()
    assert message.channel == "sms"
    assert message.recipient == "+8613800138000"
    assert message.forget_after_delivery is True
    assert row.expires_at > timezone.now()
    # Neither the number nor the code is in the stored row.
    stored = f"{row.phone_digest} {row.code_digest}"
    assert code not in stored
    assert "13800138000" not in stored
    # The code page prefills the number it was sent to.
    page = client.get(reverse("core:signin_verify"))
    assert page.status_code == 200
    assert "+8613800138000" in page.content.decode()


def test_the_right_code_signs_in_the_owner_of_the_number_and_stamps_the_session(personas: Personas) -> None:
    client = english_client()
    send(client, "13800138000")

    response = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": last_code()})

    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert signed_in_user_id(client) == str(personas.public.pk)
    assert isinstance(client.session[SIGNED_IN_AT], float)
    assert SignInCode.objects.get().used_at is not None


def test_a_first_sign_in_makes_an_account_with_a_random_username(personas: Personas) -> None:
    client = english_client()
    send(client, "139 1234 5678")

    client.post(reverse("core:signin_verify"), {"phone": "+8613912345678", "code": last_code()})

    user = User.objects.get(mobile_index=index_for("mobile", "+8613912345678"))
    assert re.fullmatch(r"p[0-9a-f]{12}", user.username)
    assert not user.has_usable_password()
    assert signed_in_user_id(client) == str(user.pk)
    assert AuditEvent.objects.filter(action="user.registered", object_id=str(user.pk)).exists()


def test_a_code_works_once_only(personas: Personas) -> None:
    client = english_client()
    send(client, "13800138000")
    code = last_code()
    client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": code})

    again = english_client()
    response = again.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": code})

    assert response.status_code == 200
    assert WRONG_OR_EXPIRED in response.content.decode()
    assert signed_in_user_id(again) is None


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "abc",
        "12345",
        "1380013800",  # one digit short
        "010 1234 5678",  # a Beijing landline
        "+1 415 555 2671",  # United States
        "+852 9123 4567",  # Hong Kong mobile: not mainland China
        "1" * 20,
    ],
)
def test_a_number_that_is_not_a_mainland_mobile_gets_a_clear_error_and_nothing_is_sent(
    personas: Personas, phone: str
) -> None:
    response = english_client().post(reverse("core:signin"), {"phone": phone})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Enter a mainland China mobile number" in content or "This field is required." in content, content
    assert not SignInCode.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_wrong_code_is_refused_counted_and_changes_nothing_else(personas: Personas) -> None:
    client = english_client()
    send(client, "13800138000")

    response = client.post(
        reverse("core:signin_verify"), {"phone": "13800138000", "code": other_code(last_code())}
    )

    assert response.status_code == 200
    assert WRONG_OR_EXPIRED in response.content.decode()
    assert signed_in_user_id(client) is None
    row = SignInCode.objects.get()
    assert row.attempts == 1
    assert row.used_at is None


def test_after_too_many_wrong_guesses_even_the_right_code_is_refused(
    personas: Personas, settings: SettingsWrapper
) -> None:
    settings.SMS_CODE_MAX_ATTEMPTS = 3
    client = english_client()
    send(client, "13800138000")
    code = last_code()
    for _ in range(3):
        client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": other_code(code)})

    response = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": code})

    assert WRONG_OR_EXPIRED in response.content.decode()
    assert signed_in_user_id(client) is None
    assert SignInCode.objects.get().attempts == 3


def test_an_expired_code_is_refused(personas: Personas) -> None:
    client = english_client()
    send(client, "13800138000")
    code = last_code()
    SignInCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": code})

    assert WRONG_OR_EXPIRED in response.content.decode()
    assert signed_in_user_id(client) is None
    assert SignInCode.objects.get().used_at is None


def test_wrong_expired_burnt_and_never_sent_codes_get_the_very_same_answer(
    personas: Personas, settings: SettingsWrapper
) -> None:
    settings.SMS_CODE_MAX_ATTEMPTS = 1

    def refusal(phone: str, code: str) -> list[str]:
        with pytest.raises(ValidationError) as exc:
            accounts.sms_code_verify(phone=phone, code=code, meta=META)
        return exc.value.messages

    accounts.sms_code_send(phone="13800138000", meta=META)
    wrong = refusal("13800138000", other_code(last_code()))
    burnt = refusal("13800138000", last_code())
    accounts.sms_code_send(phone="13900139000", meta=META)
    SignInCode.objects.update(expires_at=timezone.now())
    expired = refusal("13900139000", last_code())
    never_sent = refusal("13700137000", "123456")
    malformed = refusal("13700137000", "12ab56")

    assert wrong == burnt == expired == never_sent == malformed


def test_a_code_for_one_number_does_not_work_for_another(personas: Personas) -> None:
    accounts.sms_code_send(phone="13800138000", meta=META)
    accounts.sms_code_send(phone="13900139000", meta=META)
    code_for_139 = last_code()

    with pytest.raises(ValidationError):
        accounts.sms_code_verify(phone="13800138000", code=code_for_139, meta=META)
    assert accounts.sms_code_verify(phone="13900139000", code=code_for_139, meta=META) == personas.volunteer


def test_a_newer_code_replaces_the_older_one(personas: Personas) -> None:
    accounts.sms_code_send(phone="13800138000", meta=META)
    first = last_code()
    accounts.sms_code_send(phone="13800138000", meta=META)
    second = last_code()
    if first == second:  # one chance in a million
        pytest.skip("the two random codes happen to be equal")

    with pytest.raises(ValidationError):
        accounts.sms_code_verify(phone="13800138000", code=first, meta=META)
    assert accounts.sms_code_verify(phone="13800138000", code=second, meta=META) == personas.public


def test_sends_to_one_number_are_limited_per_hour(personas: Personas, settings: SettingsWrapper) -> None:
    settings.SMS_CODE_PER_NUMBER_PER_HOUR = 2
    client = english_client()
    send(client, "13800138000")
    send(client, "13800138000")

    response = client.post(reverse("core:signin"), {"phone": "13800138000"})

    assert response.status_code == 200
    assert "Too many codes have been sent to this number" in response.content.decode()
    assert SignInCode.objects.count() == 2
    assert OutboxMessage.objects.count() == 2
    # Another number from the same client is not affected …
    send(client, "13900139000")
    # … and an hour later the first number may have codes again.
    later = timezone.now() + timedelta(hours=1, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        accounts.sms_code_send(phone="13800138000", meta=META)


def test_sends_from_one_ip_are_limited_per_hour(personas: Personas, settings: SettingsWrapper) -> None:
    settings.SMS_CODE_PER_IP_PER_HOUR = 2
    client = english_client(REMOTE_ADDR="198.51.100.9")
    send(client, "13800138000")
    send(client, "13900139000")

    response = client.post(reverse("core:signin"), {"phone": "13700137000"})

    assert "Too many codes have been requested from your network" in response.content.decode()
    assert SignInCode.objects.count() == 2
    assert OutboxMessage.objects.count() == 2
    # Another network is not affected.
    send(english_client(REMOTE_ADDR="198.51.100.10"), "13700137000")


def test_the_answers_never_tell_whether_a_number_has_an_account(personas: Personas) -> None:
    known, unknown = english_client(), english_client()
    send(known, "13800138000")  # personas.public
    send(unknown, "13612345678")  # nobody

    if any("000000" in body for body in OutboxMessage.objects.values_list("body", flat=True)):
        pytest.skip("a random code happened to be 000000")
    answers = []
    for client, phone in ((known, "13800138000"), (unknown, "13612345678")):
        response = client.post(reverse("core:signin_verify"), {"phone": phone, "code": "000000"})
        answers.append((response.status_code, response.context["form"].errors.get_json_data()))

    assert answers[0] == answers[1]
    assert not User.objects.filter(mobile_index=index_for("mobile", "+8613612345678")).exists()


def test_a_disabled_account_cannot_sign_in_by_sms(personas: Personas) -> None:
    User.objects.filter(pk=personas.public.pk).update(is_active=False)
    client = english_client()
    send(client, "13800138000")

    response = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": last_code()})

    assert response.status_code == 200
    assert "This account has been disabled" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_the_code_page_without_a_code_requested_goes_back_to_the_number(personas: Personas) -> None:
    response = english_client().get(reverse("core:signin_verify"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:signin")


def test_after_sign_in_only_a_same_site_next_is_followed(personas: Personas) -> None:
    for target, expected in (
        ("/signin/?x=1", "/signin/?x=1"),
        ("https://evil.example/", reverse("core:home")),
    ):
        client = english_client()
        client.post(reverse("core:signin"), {"phone": "13800138000", "next": target})
        response = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": last_code()})
        assert response["Location"] == expected


def test_sign_out_is_a_post(personas: Personas) -> None:
    client = english_client()
    send(client, "13800138000")
    client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": last_code()})

    assert client.get(reverse("core:signout")).status_code == 405
    assert signed_in_user_id(client) == str(personas.public.pk)
    response = client.post(reverse("core:signout"))
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_the_sign_in_page_shows_the_form(personas: Personas) -> None:
    response = english_client().get(reverse("core:signin"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="phone"' in content
    assert "weui-btn_primary" in content


def test_spent_codes_and_attempts_are_purged_after_a_day(personas: Personas) -> None:
    accounts.sms_code_send(phone="13800138000", meta=META)
    accounts.sms_code_send(phone="13900139000", meta=META)
    with pytest.raises(ValidationError):
        accounts.staff_password_check(username="siming", password="wrong", meta=META)
    SignInCode.objects.filter(pk=SignInCode.objects.order_by("id").first().pk).update(  # type: ignore[union-attr]
        created_at=timezone.now() - timedelta(days=1, seconds=1)
    )

    assert accounts.signin_records_purge() == 1
    assert SignInCode.objects.count() == 1
    assert LoginAttempt.objects.count() == 1
