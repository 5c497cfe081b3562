"""Rate limits: API_ANON_RATE per client IP, API_USER_RATE per user, 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.core.services.tokens import token_create

pytestmark = pytest.mark.django_db


def token_client(user: User) -> Client:
    _, plaintext = token_create(actor=user, name="test", meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def statuses(client: Client, url: str, times: int, **extra: str) -> list[int]:
    return [client.get(url, **extra).status_code for _ in range(times)]  # type: ignore[arg-type]


def test_anonymous_callers_are_limited_per_ip(settings: Settings) -> None:
    settings.API_ANON_RATE = "3/m"
    client = Client()
    assert statuses(client, "/api/v1/branches", 3) == [200, 200, 200]
    response = client.get("/api/v1/branches")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_another_ip_has_its_own_allowance(settings: Settings) -> None:
    settings.API_ANON_RATE = "2/m"
    client = Client()
    assert statuses(client, "/api/v1/branches", 3, REMOTE_ADDR="10.0.0.1")[-1] == 429
    assert statuses(client, "/api/v1/branches", 1, REMOTE_ADDR="10.0.0.2") == [200]


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(settings: Settings) -> None:
    settings.API_ANON_RATE = "2/m"
    client = Client()
    results = [
        client.get("/api/v1/branches", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code for i in range(3)
    ]
    assert results == [200, 200, 429]


def test_signed_in_callers_are_limited_per_user(personas: Personas, settings: Settings) -> None:
    settings.API_ANON_RATE = "1/m"
    settings.API_USER_RATE = "3/m"
    by_token = token_client(personas.siming_staff)
    by_session = signed_in_client(personas.siming_staff)
    # Token and session of the same person share one allowance.
    assert statuses(by_token, "/api/v1/me", 2) == [200, 200]
    assert statuses(by_session, "/api/v1/me", 2) == [200, 429]
    # Someone else is not affected, and the anonymous limit does not apply to users.
    assert statuses(token_client(personas.huli_staff), "/api/v1/me", 3) == [200, 200, 200]


def test_a_throttled_response_changes_nothing(personas: Personas, settings: Settings) -> None:
    settings.API_USER_RATE = "1/m"
    _, plaintext = token_create(actor=personas.siming_staff, name="a", meta=RequestMeta())
    other, _ = token_create(actor=personas.siming_staff, name="b", meta=RequestMeta())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get("/api/v1/me").status_code == 200
    response = client.post(f"/api/v1/me/tokens/{other.pk}/revoke")
    assert response.status_code == 429
    other.refresh_from_db()
    assert other.revoked_at is None


def test_an_empty_rate_switches_the_limit_off(settings: Settings) -> None:
    settings.API_ANON_RATE = ""
    assert set(statuses(Client(), "/api/v1/branches", 5)) == {200}


def test_the_health_check_is_never_throttled(settings: Settings) -> None:
    settings.API_ANON_RATE = "1/m"
    assert set(statuses(Client(), "/api/v1/health", 5)) == {200}
