"""A forged sign-in form (posted without our CSRF token) is refused and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas
from rendao.core.middleware import PENDING_STAFF
from rendao.core.models import AuditEvent, LoginAttempt, OutboxMessage, SignInCode

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (
        SignInCode.objects.exists()
        or OutboxMessage.objects.exists()
        or LoginAttempt.objects.exists()
        or AuditEvent.objects.exists()
    )


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("core:signin", {"phone": "13800138000"}),
        ("core:signin_verify", {"phone": "13800138000", "code": "123456"}),
        ("core:staff_signin", {"username": "siming", "password": "correct horse battery"}),
        ("core:staff_totp", {"code": "123456"}),
        ("core:staff_totp_enrol", {"code": "123456"}),
        ("core:signout", {}),
    ],
)
def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(
    personas: Personas, url_name: str, data: dict[str, str]
) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse(url_name), data)

    assert response.status_code == 403
    assert nothing_written()
    assert "_auth_user_id" not in client.session
    assert PENDING_STAFF not in client.session


def test_a_token_from_another_session_is_refused_too(personas: Personas) -> None:
    attacker = Client(enforce_csrf_checks=True)
    attacker.get(reverse("core:signin"))
    forged_token = attacker.cookies["csrftoken"].value
    victim = Client(enforce_csrf_checks=True)
    victim.get(reverse("core:signin"))

    response = victim.post(
        reverse("core:signin"), {"phone": "13800138000", "csrfmiddlewaretoken": forged_token}
    )

    assert response.status_code == 403
    assert nothing_written()


def test_the_same_post_with_the_pages_own_token_is_accepted(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("core:signin"))
    token = client.cookies["csrftoken"].value

    response = client.post(reverse("core:signin"), {"phone": "13800138000", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert SignInCode.objects.count() == 1
