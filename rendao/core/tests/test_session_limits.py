"""Sessions end after 30 minutes idle and 12 hours after sign-in, whatever happens."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, signed_in_client
from rendao.core.middleware import PENDING_STAFF, SIGNED_IN_AT
from rendao.core.models import User

pytestmark = pytest.mark.django_db


def is_signed_in(client: Client) -> bool:
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    return bool(response.wsgi_request.user.is_authenticated)


def move_stamp(client: Client, *, seconds_ago: float) -> None:
    session = client.session
    session[SIGNED_IN_AT] = timezone.now().timestamp() - seconds_ago
    session.save()


def test_the_settings_say_thirty_minutes_idle_and_twelve_hours_in_all() -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60


def test_a_session_used_within_the_idle_timeout_stays_signed_in(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    start = timezone.now()
    # Three requests 25 minutes apart: each renews the idle timer.
    for minutes in (25, 50, 75):
        with mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=minutes)):
            assert is_signed_in(client)


def test_a_session_idle_for_longer_than_the_timeout_ends(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)

    with mock.patch("django.utils.timezone.now", return_value=later):
        assert not is_signed_in(client)
        response = client.get(reverse("core:workbench"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:staff_signin"))


def test_an_active_session_ends_twelve_hours_after_sign_in(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    move_stamp(client, seconds_ago=12 * 60 * 60 - 60)
    assert is_signed_in(client)

    move_stamp(client, seconds_ago=12 * 60 * 60 + 1)

    assert not is_signed_in(client)
    assert SESSION_KEY not in client.session
    assert client.get(reverse("core:workbench")).status_code == 302


def test_a_signed_in_session_without_the_stamp_is_ended(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()

    assert not is_signed_in(client)


def test_a_stamp_from_the_future_is_not_trusted(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    move_stamp(client, seconds_ago=-3600)

    assert not is_signed_in(client)


def test_every_way_of_signing_in_stamps_the_session(personas: Personas) -> None:
    # force_login goes through django.contrib.auth.login like the admin and
    # every other sign-in does; nothing stamps it by hand here.
    client = Client()
    client.force_login(personas.public)

    assert isinstance(client.session.get(SIGNED_IN_AT), float)
    assert is_signed_in(client)


def test_a_session_of_a_disabled_user_is_emptied(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    User.objects.filter(pk=personas.public.pk).update(is_active=False)

    assert not is_signed_in(client)
    assert SESSION_KEY not in client.session
    assert SIGNED_IN_AT not in client.session


def test_a_half_finished_staff_sign_in_is_forgotten_after_five_minutes(personas: Personas) -> None:
    client = Client()
    client.post(reverse("core:staff_signin"), {"username": "siming", "password": "correct horse battery"})
    assert PENDING_STAFF in client.session

    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=4)):
        client.get(reverse("core:home"))
    assert PENDING_STAFF in client.session

    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=5, seconds=1)
    ):
        client.get(reverse("core:home"))
    assert PENDING_STAFF not in client.session
    assert SESSION_KEY not in client.session
