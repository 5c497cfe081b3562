"""Consents through the "my" pages and /api/v1/me/consents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import AuditEvent
from rendao.privacy.models import Consent
from rendao.privacy.purposes import Purpose
from rendao.privacy.services import consent_check, consent_grant
from rendao.privacy.tests.helpers import EN, give_identity, text

pytestmark = pytest.mark.django_db


def test_the_my_page_links_to_personal_data_and_consents(personas: Personas) -> None:
    response = signed_in_client(personas.public).get(reverse("core:my"), headers=EN)
    assert reverse("privacy:home") in response.content.decode()


def test_the_overview_lists_every_purpose_in_constant_queries(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    client.get(reverse("privacy:home"))  # warm the session and language
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("privacy:home"), headers=EN)
    assert response.status_code == 200
    for purpose in Purpose:
        consent_grant(subject=personas.public, purpose=purpose, text=text(purpose))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("privacy:home"), headers=EN)
    page = response.content.decode()
    for purpose in Purpose:
        assert str(purpose.label) in page
    assert "Given" in page
    assert len(many) == len(few)


def test_the_consent_page_shows_the_exact_text_and_granting_records_it(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    t = text(Purpose.PUBLIC_NOTICE)
    page = client.get(reverse("privacy:consent", args=["public_notice"]), headers=EN).content.decode()
    assert t.title in page
    assert "never your ID card number" in page
    assert f'name="text" value="{t.pk}"' in page
    response = client.post(reverse("privacy:consent_grant", args=["public_notice"]), {"text": t.pk})
    assert response.status_code == 302
    consent = Consent.objects.get(subject=personas.public)
    assert consent.text == t
    assert consent_check(subject=personas.public, purpose=Purpose.PUBLIC_NOTICE)


def test_withdrawing_is_one_post(personas: Personas) -> None:
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    client = signed_in_client(personas.public)
    page = client.get(reverse("privacy:consent", args=["health_data"]), headers=EN).content.decode()
    assert reverse("privacy:consent_withdraw", args=["health_data"]) in page
    response = client.post(reverse("privacy:consent_withdraw", args=["health_data"]))
    assert response.status_code == 302
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    history = client.get(reverse("privacy:home"), headers=EN).content.decode()
    assert "withdrawn" in history
    assert "text version 1" in history


def test_a_get_never_grants_or_withdraws(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    for name in ("privacy:consent_grant", "privacy:consent_withdraw"):
        assert client.get(reverse(name, args=["health_data"])).status_code == 405
    assert not Consent.objects.exists()


def test_writes_need_the_csrf_token(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.public)
    response = client.post(reverse("privacy:consent_grant", args=["health_data"]), {"text": text().pk})
    assert response.status_code == 403
    assert not Consent.objects.exists()


@pytest.mark.parametrize("purpose", ["marketing", "HEALTH_DATA", "health-data"])
def test_an_unknown_purpose_is_a_404_and_changes_nothing(personas: Personas, purpose: str) -> None:
    client = signed_in_client(personas.public)
    assert client.get(reverse("privacy:consent", args=[purpose])).status_code == 404
    assert (
        client.post(reverse("privacy:consent_grant", args=[purpose]), {"text": text().pk}).status_code == 404
    )
    assert not Consent.objects.exists()


@pytest.mark.parametrize("bad_text", ["", "abc", "999999", "text_of_another_purpose"])
def test_a_bad_text_id_is_refused_with_a_message(personas: Personas, bad_text: str) -> None:
    client = signed_in_client(personas.public)
    value = str(text(Purpose.PUBLIC_NOTICE).pk) if bad_text == "text_of_another_purpose" else bad_text
    response = client.post(
        reverse("privacy:consent_grant", args=["health_data"]), {"text": value}, headers=EN, follow=True
    )
    assert "The consent text has changed" in response.content.decode()
    assert not Consent.objects.exists()


def test_withdrawing_a_consent_never_given_shows_why(personas: Personas) -> None:
    response = signed_in_client(personas.public).post(
        reverse("privacy:consent_withdraw", args=["health_data"]), headers=EN, follow=True
    )
    assert "There is no consent for this purpose to withdraw." in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="consent.").exists()


def test_a_child_is_told_a_guardian_must_consent(personas: Personas) -> None:
    give_identity(personas.public, age=9)
    response = signed_in_client(personas.public).post(
        reverse("privacy:consent_grant", args=["health_data"]), {"text": text().pk}, headers=EN, follow=True
    )
    assert "a parent or other guardian must give this consent" in response.content.decode()
    assert not Consent.objects.exists()


def test_the_pages_need_a_sign_in(personas: Personas) -> None:
    client = Client()
    response = client.get(reverse("privacy:home"))
    assert response.status_code == 302
    assert "signin" in response["Location"]
    response = client.post(reverse("privacy:consent_grant", args=["health_data"]), {"text": text().pk})
    assert response.status_code == 302
    assert not Consent.objects.exists()


# --- API ------------------------------------------------------------------------------


def _post(client: Client, url: str, body: object) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=EN)


def test_the_api_lists_purposes_with_the_current_text(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    response = client.get("/api/v1/me/consents/purposes?language=en")
    assert response.status_code == 200
    rows = {r["purpose"]: r for r in response.json()}
    assert set(rows) == set(Purpose.values)
    assert rows["health_data"]["text"]["id"] == text().pk
    assert rows["health_data"]["consent"] is None
    assert rows["share_stem_cell_registry"]["third_party"] is True


def test_the_api_grants_lists_and_withdraws(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    response = _post(client, "/api/v1/me/consents", {"purpose": "health_data", "text_id": text().pk})
    assert response.status_code == 201, response.content
    assert response.json()["text_version"] == 1
    assert consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    listed = client.get("/api/v1/me/consents").json()
    assert listed["count"] == 1
    response = client.post("/api/v1/me/consents/health_data/withdraw")
    assert response.status_code == 200
    assert response.json()["withdrawn_at"] is not None
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "marketing", "text_id": 1}, "purpose"),
        ({"purpose": "health_data"}, "text_id"),
        ({"purpose": "health_data", "text_id": "x"}, "text_id"),
        ({"purpose": "health_data", "text_id": 999999}, "text_id"),
    ],
)
def test_the_api_refuses_bad_grants_with_a_422(
    personas: Personas, body: dict[str, object], field: str
) -> None:
    response = _post(signed_in_client(personas.public), "/api/v1/me/consents", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in d["loc"] for d in error["details"])
    assert not Consent.objects.exists()


def test_the_api_refuses_a_second_grant_and_an_empty_withdrawal(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    assert client.post("/api/v1/me/consents/health_data/withdraw").status_code == 422
    assert client.post("/api/v1/me/consents/marketing/withdraw").status_code == 422
    _post(client, "/api/v1/me/consents", {"purpose": "health_data", "text_id": text().pk})
    again = _post(client, "/api/v1/me/consents", {"purpose": "health_data", "text_id": text().pk})
    assert again.status_code == 422
    assert "already been given" in again.json()["error"]["details"][0]["message"]
    assert Consent.objects.count() == 1


def test_the_api_needs_a_caller(personas: Personas) -> None:
    assert Client().get("/api/v1/me/consents").status_code == 401
    response = Client().post(
        "/api/v1/me/consents",
        json.dumps({"purpose": "health_data", "text_id": text().pk}),
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not Consent.objects.exists()
