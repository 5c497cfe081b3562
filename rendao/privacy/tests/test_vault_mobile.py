"""Mobile numbers and outbox recipients live in the vault (issue #3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas
from rendao.core.models import AuditEvent, OutboxMessage, User
from rendao.core.outbox_delivery import message_deliver
from rendao.core.views.auth import SIGNIN_PHONE
from rendao.privacy.crypto import encrypt, is_sealed
from rendao.privacy.fields import index_for

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def raw_column(table: str, column: str, where: str = "", params: list[Any] | None = None) -> list[Any]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} {where}", params or [])  # noqa: S608 - test constants
        return [row[0] for row in cur.fetchall()]


def test_a_users_mobile_number_is_stored_sealed_with_a_blind_index(personas: Personas) -> None:
    (stored,) = raw_column("core_user", "mobile", "WHERE id = %s", [personas.public.pk])
    assert is_sealed(stored)
    assert "13800138000" not in stored
    (index,) = raw_column("core_user", "mobile_index", "WHERE id = %s", [personas.public.pk])
    assert index == index_for("mobile", "+8613800138000")
    assert User.objects.get(pk=personas.public.pk).mobile == "+8613800138000"


@pytest.mark.parametrize("spelling", ["+8613800138000", "13800138000", "138 0013 8000", "+86 138-0013-8000"])
def test_a_user_is_found_by_number_whatever_its_spelling(personas: Personas, spelling: str) -> None:
    assert User.objects.get(mobile_index=index_for("mobile", spelling)) == personas.public


def test_one_number_belongs_to_one_account(personas: Personas) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("copy", mobile="13800138000")
    assert User.objects.filter(username="copy").count() == 0


def test_staff_without_a_number_have_no_index(personas: Personas) -> None:
    assert raw_column("core_user", "mobile_index", "WHERE id = %s", [personas.city_staff.pk]) == [None]


def _send_code(client: Client, phone: str) -> None:
    response = client.post(reverse("core:signin"), {"phone": phone}, headers=EN)
    assert response.status_code == 302


def test_the_sign_in_session_keeps_the_number_sealed(personas: Personas) -> None:
    client = Client()
    _send_code(client, "138 0013 8000")
    stored = client.session[SIGNIN_PHONE]
    assert is_sealed(stored)
    assert "13800138000" not in stored
    # The code page still shows the number to the person who typed it.
    response = client.get(reverse("core:signin_verify"), headers=EN)
    assert response.context["form"].initial["phone"] == "+8613800138000"


@pytest.mark.parametrize("bad", ["+8613800138000", "v1.k1.AAAA", "sealed for another use", 42])
def test_a_session_value_that_does_not_open_starts_the_sign_in_again(personas: Personas, bad: object) -> None:
    if bad == "sealed for another use":
        bad = encrypt("+8613800138000", aad="elsewhere")
    client = Client()
    session = client.session
    session[SIGNIN_PHONE] = bad
    session.save()
    response = client.get(reverse("core:signin_verify"), headers=EN)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:signin")


def test_sms_sign_in_finds_the_account_through_the_index(personas: Personas) -> None:
    accounts = User.objects.count()
    client = Client()
    _send_code(client, "13800138000")
    message = OutboxMessage.objects.get(kind="signin_code")
    code = next(word for word in message.body.split() if word.rstrip(".").isdigit()).rstrip(".")
    response = client.post(reverse("core:signin_verify"), {"phone": "13800138000", "code": code}, headers=EN)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.public.pk)
    assert User.objects.count() == accounts  # no second account was made


def test_an_outbox_row_keeps_its_recipient_sealed_and_masked(personas: Personas) -> None:
    message = OutboxMessage.objects.create(channel="sms", recipient="+8613812345678", kind="n", body="b")
    (stored,) = raw_column("core_outboxmessage", "recipient", "WHERE id = %s", [message.pk.hex])
    assert is_sealed(stored)
    assert message.recipient_masked == "138****5678"


def test_a_delivered_message_forgets_its_recipient(personas: Personas) -> None:
    message = OutboxMessage.objects.create(channel="console", recipient="+8613812345678", kind="n", body="hi")
    assert message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT
    message.refresh_from_db()
    assert (message.recipient, message.recipient_masked, message.body) == ("", "138****5678", "hi")
    assert raw_column("core_outboxmessage", "recipient", "WHERE id = %s", [message.pk.hex]) == [""]


def test_audit_rows_of_a_sign_in_hold_no_number(personas: Personas) -> None:
    client = Client()
    _send_code(client, "13912345678")
    message = OutboxMessage.objects.get(kind="signin_code")
    code = next(word for word in message.body.split() if word.rstrip(".").isdigit()).rstrip(".")
    client.post(reverse("core:signin_verify"), {"phone": "13912345678", "code": code}, headers=EN)
    event = AuditEvent.objects.get(action="user.registered")
    assert "13912345678" not in str(event.before) + str(event.after)
