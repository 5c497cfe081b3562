"""Download my data: everything we hold about the person, for them alone."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import AuditEvent, OutboxMessage
from rendao.privacy.purposes import Purpose
from rendao.privacy.services import consent_grant, consent_withdraw, data_request_submit
from rendao.privacy.tests.helpers import EN, give_identity, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(personas: Personas) -> Personas:
    give_identity(personas.public, age=30, name="张三明")
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    data_request_submit(
        subject=personas.public, kind="correction", field="real_name", proposed_value="张山明"
    )
    OutboxMessage.objects.create(
        channel="sms", recipient="+8613800138000", kind="notice", body="hello", user=personas.public
    )
    # Someone else's data, which must not appear.
    give_identity(personas.volunteer, age=40, name="李四", serial="456")
    return personas


def _download(client: Client) -> dict[str, object]:
    response = client.post(reverse("privacy:export"), headers=EN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    data: dict[str, object] = json.loads(response.content)
    return data


def test_the_download_holds_everything_about_the_person_in_clear(holder: Personas) -> None:
    data = _download(signed_in_client(holder.public))
    account = data["account"]
    assert isinstance(account, dict)
    assert account["mobile"] == "+8613800138000"
    assert account["mobile_masked"] == "138****8000"
    identity = data["identity"]
    assert isinstance(identity, dict)
    assert identity["real_name"] == "张三明"
    assert identity["id_number"] == holder.public.identity.id_number
    assert identity["id_number_masked"].startswith("350203")
    consents = data["consents"]
    assert isinstance(consents, list)
    assert consents[0]["purpose"] == "health_data"
    assert consents[0]["withdrawn_at"] is not None
    assert consents[0]["text"]["version"] == 1
    requests = data["data_requests"]
    assert isinstance(requests, list)
    assert requests[0]["proposed_value"] == "张山明"
    messages = data["messages"]
    assert isinstance(messages, list)
    assert messages[0]["body"] == "hello"
    assert {"memberships", "api_tokens", "activity", "consents_given_as_guardian"} <= set(data)
    # Nothing of the other person.
    assert "李四" not in json.dumps(data, ensure_ascii=False)


def test_a_staff_members_download_lists_their_roles(personas: Personas) -> None:
    data = _download(signed_in_client(personas.siming_staff))
    memberships = data["memberships"]
    assert isinstance(memberships, list)
    assert memberships[0]["role"] == "branch_admin"
    assert data["identity"] is None


def test_each_download_is_audited_without_its_content(holder: Personas) -> None:
    _download(signed_in_client(holder.public))
    event = AuditEvent.objects.get(action="privacy.data_export")
    assert event.actor == holder.public
    assert "张三明" not in json.dumps(event.after, ensure_ascii=False)
    assert event.after is not None
    assert "identity" in event.after["sections"]


def test_a_get_does_not_download(holder: Personas) -> None:
    assert signed_in_client(holder.public).get(reverse("privacy:export")).status_code == 405
    assert not AuditEvent.objects.filter(action="privacy.data_export").exists()


def test_an_anonymous_visitor_gets_nothing(holder: Personas) -> None:
    response = Client().post(reverse("privacy:export"))
    assert response.status_code == 302
    assert "signin" in response["Location"]
    assert Client().get("/api/v1/me/data").status_code == 401
    assert not AuditEvent.objects.filter(action="privacy.data_export").exists()


def test_the_api_returns_the_same_data(holder: Personas) -> None:
    response = signed_in_client(holder.public).get("/api/v1/me/data")
    assert response.status_code == 200
    data = response.json()
    assert data["identity"]["real_name"] == "张三明"
    assert data["format"] == "rendao.personal-data-export/1"
    assert AuditEvent.objects.filter(action="privacy.data_export").count() == 1
