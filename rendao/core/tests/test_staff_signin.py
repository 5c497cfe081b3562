"""Staff sign-in: password, then a TOTP code; enrolment of a first authenticator."""

from __future__ import annotations

import re
from base64 import b32decode
from binascii import hexlify
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.core.middleware import PENDING_STAFF, SIGNED_IN_AT
from rendao.core.models import AuditEvent, LoginAttempt, User
from rendao.core.services import accounts

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the personas' password (conftest)
META = RequestMeta(ip="203.0.113.7", user_agent="test")


def english_client(**kwargs: object) -> Client:
    return Client(headers={"accept-language": "en"}, **kwargs)  # type: ignore[arg-type]


def device_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_of(key_hex: str, *, wrong: bool = False) -> str:
    value = totp(bytes.fromhex(key_hex))
    if wrong:
        # Far enough from the current code not to be one of its neighbours in time.
        value = (value + 500_000) % 10**6
    return f"{value:06d}"


def password_step(client: Client, username: str, password: str = PASSWORD, **extra: str) -> str:
    response = client.post(
        reverse("core:staff_signin"), {"username": username, "password": password, **extra}
    )
    return response["Location"] if response.status_code == 302 else ""


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return None if value is None else str(value)


def test_the_right_password_alone_does_not_sign_in(personas: Personas) -> None:
    device_for(personas.siming_staff)
    client = english_client()

    assert password_step(client, "siming") == reverse("core:staff_totp")
    assert signed_in_user_id(client) is None
    assert client.session[PENDING_STAFF]["uid"] == personas.siming_staff.pk
    # Staff pages still send the half-signed-in user to sign in.
    response = client.get(reverse("core:workbench"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:staff_signin"))


def test_password_then_totp_signs_in_with_a_verified_session_and_is_audited(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")

    response = client.post(reverse("core:staff_totp"), {"code": code_of(device.key)})

    assert response.status_code == 302
    assert response["Location"] == reverse("core:workbench")
    assert signed_in_user_id(client) == str(personas.siming_staff.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert SIGNED_IN_AT in client.session
    assert PENDING_STAFF not in client.session
    assert client.get(reverse("core:workbench")).status_code == 200
    event = AuditEvent.objects.get(action="staff.signed_in")
    assert event.actor_id == personas.siming_staff.pk
    assert event.ip == "127.0.0.1"


def test_the_next_page_is_kept_through_both_steps_but_only_within_the_site(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming", next="/staff/?tab=1")
    response = client.post(reverse("core:staff_totp"), {"code": code_of(device.key)})
    assert response["Location"] == "/staff/?tab=1"

    device.throttle_reset()
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    other = english_client()
    password_step(other, "siming", next="https://evil.example/")
    response = other.post(reverse("core:staff_totp"), {"code": code_of(device.key)})
    assert response["Location"] == reverse("core:workbench")


def test_a_wrong_password_is_refused_counted_and_audited(personas: Personas) -> None:
    client = english_client()

    response = client.post(reverse("core:staff_signin"), {"username": "siming", "password": "wrong"})

    assert response.status_code == 200
    assert "The username or password is not correct." in response.content.decode()
    assert PENDING_STAFF not in client.session
    assert LoginAttempt.objects.filter(username="siming", succeeded=False).count() == 1
    event = AuditEvent.objects.get(action="staff.signin_failed")
    assert event.object_id == str(personas.siming_staff.pk)
    assert event.actor_id is None


def test_a_failure_with_an_unknown_username_does_not_record_what_was_typed(personas: Personas) -> None:
    english_client().post(reverse("core:staff_signin"), {"username": "my-secret-pw", "password": "x"})

    event = AuditEvent.objects.get(action="staff.signin_failed")
    assert event.object_id == ""
    assert "my-secret-pw" not in str(event.after)


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(personas: Personas) -> None:
    User.objects.filter(pk=personas.siming_staff.pk).update(is_active=False)

    with pytest.raises(ValidationError) as disabled:
        accounts.staff_password_check(username="siming", password=PASSWORD, meta=META)
    with pytest.raises(ValidationError) as wrong:
        accounts.staff_password_check(username="huli", password="nope", meta=META)

    assert disabled.value.messages == wrong.value.messages


def test_after_too_many_failures_the_account_is_refused_without_checking_the_password(
    personas: Personas, settings: SettingsWrapper
) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        with pytest.raises(ValidationError):
            accounts.staff_password_check(username="siming", password="wrong", meta=META)

    client = english_client()
    with mock.patch("rendao.core.services.accounts.authenticate") as authenticate:
        response = client.post(reverse("core:staff_signin"), {"username": "siming", "password": PASSWORD})
        authenticate.assert_not_called()

    assert "Too many failed sign-in attempts" in response.content.decode()
    assert PENDING_STAFF not in client.session
    assert LoginAttempt.objects.count() == 3
    # Another account is not locked by it …
    assert accounts.staff_password_check(username="huli", password=PASSWORD, meta=META) == personas.huli_staff
    # … and 15 minutes after the failures the account may try again.
    LoginAttempt.objects.update(at=timezone.now() - timedelta(minutes=15, seconds=1))
    assert (
        accounts.staff_password_check(username="siming", password=PASSWORD, meta=META)
        == personas.siming_staff
    )


def test_an_unknown_username_is_throttled_just_like_a_real_one(
    personas: Personas, settings: SettingsWrapper
) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    answers = {}
    for username in ("siming", "nobody"):
        for _ in range(2):
            with pytest.raises(ValidationError):
                accounts.staff_password_check(username=username, password="wrong", meta=META)
        with pytest.raises(ValidationError) as exc:
            accounts.staff_password_check(username=username, password="wrong", meta=META)
        answers[username] = exc.value.messages
    assert answers["siming"] == answers["nobody"]


def test_too_many_failures_from_one_ip_are_refused(personas: Personas, settings: SettingsWrapper) -> None:
    settings.LOGIN_FAILURES_PER_IP = 3
    guesser = english_client(REMOTE_ADDR="198.51.100.9")
    for username in ("a", "b", "c"):
        guesser.post(reverse("core:staff_signin"), {"username": username, "password": "x"})

    response = guesser.post(reverse("core:staff_signin"), {"username": "siming", "password": PASSWORD})

    assert "Too many failed sign-in attempts" in response.content.decode()
    assert PENDING_STAFF not in guesser.session
    # Someone on another network signs in as usual.
    device_for(personas.siming_staff)
    assert password_step(english_client(REMOTE_ADDR="198.51.100.10"), "siming") == reverse("core:staff_totp")


def test_a_wrong_totp_code_is_refused_audited_and_does_not_sign_in(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")

    response = client.post(reverse("core:staff_totp"), {"code": code_of(device.key, wrong=True)})

    assert response.status_code == 200
    assert "The code is not correct." in response.content.decode()
    assert signed_in_user_id(client) is None
    assert "otp_device_id" not in client.session
    event = AuditEvent.objects.get(action="staff.signin_failed")
    assert event.actor_id == personas.siming_staff.pk
    assert event.after == {"step": "totp"}


@pytest.mark.parametrize("code", ["", "abc", "12 34", "1234567890"])
def test_a_malformed_totp_code_is_refused(personas: Personas, code: str) -> None:
    device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")

    response = client.post(reverse("core:staff_totp"), {"code": code})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert signed_in_user_id(client) is None


def test_repeated_wrong_totp_codes_slow_the_device_down(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")
    client.post(reverse("core:staff_totp"), {"code": code_of(device.key, wrong=True)})

    # Right away, even the right code waits for the throttle to pass.
    response = client.post(reverse("core:staff_totp"), {"code": code_of(device.key)})

    assert "Too many wrong codes" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_totp_code_is_accepted_once_only(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    code = code_of(device.key)
    first = english_client()
    password_step(first, "siming")
    first.post(reverse("core:staff_totp"), {"code": code})
    assert signed_in_user_id(first) == str(personas.siming_staff.pk)

    second = english_client()
    password_step(second, "siming")
    response = second.post(reverse("core:staff_totp"), {"code": code})

    assert "The code is not correct." in response.content.decode()
    assert signed_in_user_id(second) is None


def test_the_totp_step_without_a_password_step_goes_back_to_the_start(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()

    assert client.get(reverse("core:staff_totp"))["Location"] == reverse("core:staff_signin")
    response = client.post(reverse("core:staff_totp"), {"code": code_of(device.key)})
    assert "Please sign in again." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_pending_sign_in_must_be_finished_within_five_minutes(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")

    later = timezone.now() + timedelta(minutes=5, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.post(reverse("core:staff_totp"), {"code": code_of(device.key)})

    assert "Please sign in again." in response.content.decode()
    assert signed_in_user_id(client) is None
    assert not AuditEvent.objects.filter(action="staff.signed_in").exists()


def test_an_account_disabled_between_the_two_steps_cannot_finish(personas: Personas) -> None:
    device = device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")
    User.objects.filter(pk=personas.siming_staff.pk).update(is_active=False)

    client.post(reverse("core:staff_totp"), {"code": code_of(device.key)})

    assert signed_in_user_id(client) is None


def test_an_account_with_a_password_but_no_role_still_needs_the_second_factor(personas: Personas) -> None:
    # Every password sign-in asks for TOTP, so no staff account can slip past it
    # by holding no role at the moment it signs in.
    client = english_client()
    assert password_step(client, "outsider") == reverse("core:staff_totp_enrol")
    assert signed_in_user_id(client) is None


def enrol_page(client: Client) -> tuple[str, str]:
    """Open the enrolment page; return the secret (hex) it shows and the page."""
    response = client.get(reverse("core:staff_totp_enrol"))
    assert response.status_code == 200
    content = response.content.decode()
    secret = re.search(r"secret=([A-Z2-7]+)", content)
    assert secret is not None
    b32 = secret.group(1)
    key_hex = hexlify(b32decode(b32 + "=" * (-len(b32) % 8))).decode()
    return key_hex, content


def test_a_staff_member_without_an_authenticator_enrols_one_and_is_signed_in(personas: Personas) -> None:
    client = english_client()
    assert password_step(client, "siming") == reverse("core:staff_totp_enrol")
    # The TOTP page sends them to enrolment too.
    assert client.get(reverse("core:staff_totp"))["Location"] == reverse("core:staff_totp_enrol")

    key_hex, content = enrol_page(client)
    assert 'src="data:image/svg+xml' in content
    assert "otpauth://totp/rendao%3Asiming" in content
    # Showing the page stored nothing, and a reload shows the same secret.
    assert not TOTPDevice.objects.filter(user=personas.siming_staff).exists()
    assert enrol_page(client)[0] == key_hex

    wrong = client.post(reverse("core:staff_totp_enrol"), {"code": code_of(key_hex, wrong=True)})
    assert "The code is not correct." in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=personas.siming_staff).exists()
    assert signed_in_user_id(client) is None

    response = client.post(reverse("core:staff_totp_enrol"), {"code": code_of(key_hex)})

    assert response["Location"] == reverse("core:workbench")
    device = TOTPDevice.objects.get(user=personas.siming_staff)
    assert device.confirmed
    assert device.key == key_hex
    assert signed_in_user_id(client) == str(personas.siming_staff.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions[-2:] == ["staff.totp_enrolled", "staff.signed_in"]
    # The enrolment secret never reaches the audit log.
    assert not AuditEvent.objects.filter(after__icontains=key_hex).exists()


def test_the_enrolment_code_cannot_be_replayed_at_the_next_sign_in(personas: Personas) -> None:
    client = english_client()
    password_step(client, "siming")
    key_hex, _ = enrol_page(client)
    code = code_of(key_hex)
    client.post(reverse("core:staff_totp_enrol"), {"code": code})

    again = english_client()
    password_step(again, "siming")
    response = again.post(reverse("core:staff_totp"), {"code": code})

    assert "The code is not correct." in response.content.decode()
    assert signed_in_user_id(again) is None


def test_someone_with_an_authenticator_cannot_enrol_another(personas: Personas) -> None:
    device_for(personas.siming_staff)
    client = english_client()
    password_step(client, "siming")

    assert client.get(reverse("core:staff_totp_enrol"))["Location"] == reverse("core:staff_totp")
    with pytest.raises(ValidationError):
        accounts.totp_enrol_start(user=personas.siming_staff)
    assert TOTPDevice.objects.filter(user=personas.siming_staff).count() == 1


def test_enrolment_without_a_pending_sign_in_goes_back_to_the_start(personas: Personas) -> None:
    client = english_client()
    assert client.get(reverse("core:staff_totp_enrol"))["Location"] == reverse("core:staff_signin")
    response = client.post(reverse("core:staff_totp_enrol"), {"code": "123456"})
    assert "Please sign in again." in response.content.decode()
    assert not TOTPDevice.objects.exists()


def test_enrolment_refuses_a_malformed_secret(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        accounts.totp_enrol_confirm(user=personas.siming_staff, key="zz", code="123456", meta=META)
    assert not TOTPDevice.objects.exists()


def test_staff_pages_send_anonymous_visitors_to_the_staff_sign_in(personas: Personas) -> None:
    response = english_client().get(reverse("core:workbench"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:staff_signin"))
    page = english_client().get(response["Location"])
    assert page.status_code == 200
    assert 'name="password"' in page.content.decode()
