"""Disabling an account ends all its sessions at once and revokes its API tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import ApiToken, AuditEvent, User
from rendao.core.services import accounts
from rendao.core.services.tokens import token_create

pytestmark = pytest.mark.django_db

META = RequestMeta(ip="203.0.113.7", user_agent="test")


def is_signed_in(client: Client) -> bool:
    response = client.get(reverse("core:home"))
    return bool(response.wsgi_request.user.is_authenticated)


def disable(personas: Personas, user: User) -> User:
    return accounts.user_set_active(actor=personas.sysadmin, user=user, active=False, meta=META)


def test_disabling_signs_out_every_session_of_the_user_at_once(personas: Personas) -> None:
    phone, laptop = signed_in_client(personas.finance), signed_in_client(personas.finance)
    colleague = signed_in_client(personas.auditor)
    assert is_signed_in(phone)
    assert is_signed_in(laptop)

    disable(personas, personas.finance)

    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert phone.get(reverse("core:workbench")).status_code == 302
    assert is_signed_in(colleague)
    assert not User.objects.get(pk=personas.finance.pk).is_active


def test_re_enabling_does_not_bring_the_old_sessions_back(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    old_key = client.session.session_key

    disable(personas, personas.public)
    accounts.user_set_active(actor=personas.sysadmin, user=personas.public, active=True, meta=META)

    assert not Session.objects.filter(session_key=old_key).exists()
    assert not is_signed_in(client)


def test_disabling_revokes_the_users_api_tokens_and_they_stop_working(personas: Personas) -> None:
    _, plaintext = token_create(actor=personas.finance, name="bank export", meta=META)
    _, other = token_create(actor=personas.city_staff, name="branch export", meta=META)
    api = Client()
    assert api.get("/api/v1/me", headers={"authorization": f"Bearer {plaintext}"}).status_code == 200

    disable(personas, personas.finance)

    assert not ApiToken.objects.filter(user=personas.finance, revoked_at__isnull=True).exists()
    assert api.get("/api/v1/me", headers={"authorization": f"Bearer {plaintext}"}).status_code == 401
    # Other people's tokens are untouched.
    assert ApiToken.objects.get(user=personas.city_staff).revoked_at is None
    assert api.get("/api/v1/me", headers={"authorization": f"Bearer {other}"}).status_code == 200


def test_disabling_and_enabling_are_audited(personas: Personas) -> None:
    token_create(actor=personas.finance, name="bank export", meta=META)
    signed_in_client(personas.finance)

    disable(personas, personas.finance)
    accounts.user_set_active(actor=personas.sysadmin, user=personas.finance, active=True, meta=META)

    disabled, enabled = AuditEvent.objects.filter(object_id=str(personas.finance.pk)).filter(
        action__in=["user.disabled", "user.enabled"]
    )
    assert disabled.action == "user.disabled"
    assert disabled.actor_id == personas.sysadmin.pk
    assert disabled.before == {"is_active": True}
    assert disabled.after == {"is_active": False, "api_access_revoked": 1, "sessions_ended": 1}
    assert disabled.ip == "203.0.113.7"
    assert enabled.action == "user.enabled"


@pytest.mark.parametrize("who", ["city_staff", "siming_staff", "auditor", "finance", "public", "outsider"])
def test_only_a_holder_of_the_accounts_permission_may_disable(personas: Personas, who: str) -> None:
    client = signed_in_client(personas.volunteer)
    before = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        accounts.user_set_active(
            actor=getattr(personas, who), user=personas.volunteer, active=False, meta=META
        )

    assert User.objects.get(pk=personas.volunteer.pk).is_active
    assert is_signed_in(client)
    assert AuditEvent.objects.count() == before


def test_an_anonymous_caller_may_not_disable(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        accounts.user_set_active(actor=AnonymousUser(), user=personas.volunteer, active=False, meta=META)
    assert User.objects.get(pk=personas.volunteer.pk).is_active


def test_nobody_can_disable_their_own_account(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        disable(personas, personas.sysadmin)
    assert User.objects.get(pk=personas.sysadmin.pk).is_active


def test_a_disabled_staff_member_cannot_sign_in_again(personas: Personas) -> None:
    disable(personas, personas.finance)

    response = Client(headers={"accept-language": "en"}).post(
        reverse("core:staff_signin"), {"username": "finance", "password": "correct horse battery"}
    )

    assert "The username or password is not correct." in response.content.decode()
