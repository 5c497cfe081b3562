"""Correction and deletion requests: submitted by the person, decided by city staff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import audit_verify
from rendao.core.models import ApiToken, AuditEvent, OutboxMessage, User
from rendao.privacy import services
from rendao.privacy.fields import index_for
from rendao.privacy.models import Consent, DataRequest, DataRequestDecision, Identity
from rendao.privacy.purposes import Purpose
from rendao.privacy.services import (
    consent_check,
    consent_grant,
    data_request_submit,
    data_request_transition,
)
from rendao.privacy.tests.helpers import EN, give_identity, id_number_born, text, years_ago

pytestmark = pytest.mark.django_db

Status = DataRequest.Status


def _correction(personas: Personas, value: str = "张山明") -> DataRequest:
    give_identity(personas.public, age=30)
    return data_request_submit(
        subject=personas.public, kind="correction", field="real_name", proposed_value=value
    )


def _decide(client: Client, req: DataRequest, to_status: str, reason: str = "") -> Any:
    return client.post(
        reverse("privacy:staff_request_decide", args=[req.pk]),
        {"to_status": to_status, "reason": reason},
        headers=EN,
        follow=True,
    )


# --- submitting ---------------------------------------------------------------------


def test_a_person_asks_for_a_correction_through_the_page(personas: Personas) -> None:
    give_identity(personas.public, age=30)
    client = signed_in_client(personas.public)
    assert client.get(reverse("privacy:request_correction"), headers=EN).status_code == 200
    response = client.post(
        reverse("privacy:request_correction"),
        {"field": "real_name", "proposed_value": " 张山明 ", "note": "typo at registration"},
    )
    req = DataRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:request", args=[req.pk])
    assert (req.kind, req.field, req.proposed_value, req.status) == (
        "correction",
        "real_name",
        "张山明",
        "submitted",
    )
    event = AuditEvent.objects.get(action="data_request.submit")
    assert "张山明" not in json.dumps(event.after, ensure_ascii=False)
    page = client.get(response["Location"], headers=EN).content.decode()
    assert "Submitted" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "nickname", "proposed_value": "x"}, "Select a valid choice"),
        ({"field": "real_name", "proposed_value": ""}, "This field is required"),
        ({"field": "real_name", "proposed_value": "张三明"}, "This is already the value we hold."),
        ({"field": "real_name", "proposed_value": "张3"}, "A name cannot contain digits."),
        ({"field": "id_number", "proposed_value": "350203199001011234"}, "check digit is wrong"),
        ({"field": "email", "proposed_value": "not-an-email"}, "Enter a valid e-mail address."),
        ({"field": "real_name", "proposed_value": "张山明", "note": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_a_bad_correction_is_refused_with_a_clear_error(
    personas: Personas, data: dict[str, str], message: str
) -> None:
    give_identity(personas.public, age=30)
    response = signed_in_client(personas.public).post(reverse("privacy:request_correction"), data, headers=EN)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DataRequest.objects.exists()


def test_a_correction_of_data_we_do_not_hold_is_refused(personas: Personas) -> None:
    response = signed_in_client(personas.public).post(
        reverse("privacy:request_correction"), {"field": "real_name", "proposed_value": "张山明"}, headers=EN
    )
    assert response.status_code == 400
    assert "We hold no such data about you" in response.content.decode()
    assert not DataRequest.objects.exists()


def test_a_deletion_request_needs_the_box_ticked_and_only_one_is_open(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    response = client.post(reverse("privacy:request_deletion"), {}, headers=EN)
    assert response.status_code == 400
    assert "Tick the box to confirm." in response.content.decode()
    assert not DataRequest.objects.exists()
    assert client.post(reverse("privacy:request_deletion"), {"confirm": "on"}).status_code == 302
    again = client.post(reverse("privacy:request_deletion"), {"confirm": "on"}, headers=EN)
    assert again.status_code == 400
    assert "You already have an open request of this kind" in again.content.decode()
    assert DataRequest.objects.count() == 1


def test_someone_elses_request_is_a_404(personas: Personas) -> None:
    req = _correction(personas)
    client = signed_in_client(personas.volunteer)
    assert client.get(reverse("privacy:request", args=[req.pk])).status_code == 404
    assert client.get(f"/api/v1/me/data-requests/{req.pk}").status_code == 404
    assert req.pk not in {r["id"] for r in client.get("/api/v1/me/data-requests").json()["items"]}


# --- staff ------------------------------------------------------------------------------


def test_city_staff_see_open_requests_in_the_list_and_the_inbox(personas: Personas) -> None:
    req = _correction(personas)
    client = signed_in_client(personas.city_staff)
    page = client.get(reverse("privacy:staff_requests"), headers=EN).content.decode()
    assert reverse("privacy:staff_request", args=[req.pk]) in page
    assert "张三明" not in page
    workbench = client.get(reverse("core:workbench"), headers=EN).content.decode()
    assert "Requests about personal data" in workbench
    assert reverse("privacy:staff_requests") in workbench


def test_the_inbox_item_is_only_for_handlers_at_the_city(personas: Personas) -> None:
    _correction(personas)
    for who in (personas.siming_staff, personas.finance, personas.auditor):
        page = signed_in_client(who).get(reverse("core:workbench"), headers=EN).content.decode()
        assert "Requests about personal data" not in page


@pytest.mark.parametrize(
    "who", ["siming_staff", "huli_staff", "finance", "auditor", "sysadmin", "outsider", "public"]
)
def test_staff_out_of_scope_or_without_the_permission_are_refused(personas: Personas, who: str) -> None:
    req = _correction(personas)
    client = signed_in_client(getattr(personas, who))
    assert client.get(reverse("privacy:staff_requests")).status_code == 403
    assert client.get(reverse("privacy:staff_request", args=[req.pk])).status_code in (403, 404)
    response = client.post(reverse("privacy:staff_request_decide", args=[req.pk]), {"to_status": "in_review"})
    assert response.status_code in (403, 404)
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED
    assert not DataRequestDecision.objects.exists()


def test_the_service_checks_the_permission_too(personas: Personas) -> None:
    req = _correction(personas)
    with pytest.raises(PermissionDenied):
        data_request_transition(actor=personas.siming_staff, request=req, to_status=Status.IN_REVIEW)
    assert DataRequest.objects.get().status == Status.SUBMITTED


def test_the_staff_list_costs_the_same_queries_for_many_requests(personas: Personas) -> None:
    client = signed_in_client(personas.city_staff)
    _correction(personas)
    client.get(reverse("privacy:staff_requests"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("privacy:staff_requests"), headers=EN)
    for i in range(10):
        user = User.objects.create_user(f"p{i}", mobile=f"+86139{i:08d}")
        data_request_submit(subject=user, kind="deletion")
    with CaptureQueriesContext(connection) as eleven:
        response = client.get(reverse("privacy:staff_requests"), headers=EN)
    assert response.content.decode().count("privacy/requests/") >= 11
    assert len(eleven) == len(one)


def test_an_approved_correction_is_applied_through_the_identity_service(personas: Personas) -> None:
    req = _correction(personas)
    client = signed_in_client(personas.city_staff)
    detail = client.get(reverse("privacy:staff_request", args=[req.pk]), headers=EN).content.decode()
    assert "张*明" in detail  # masked, both the held and the proposed value
    assert "张三明" not in detail
    _decide(client, req, "in_review")
    response = _decide(client, req, "done")
    assert "Decision recorded." in response.content.decode()
    req.refresh_from_db()
    assert req.status == Status.DONE
    assert req.closed_at is not None
    assert Identity.objects.get(user=personas.public).real_name == "张山明"
    assert [d.to_status for d in req.decisions.all()] == ["in_review", "done"]
    event = AuditEvent.objects.get(action="identity.correct")
    assert event.after == {"fields": ["real_name"]}
    assert event.actor == personas.city_staff
    assert audit_verify().ok


def test_an_id_number_correction_moves_the_blind_index(personas: Personas) -> None:
    give_identity(personas.public, age=30)
    new = id_number_born(years_ago(31), "777")
    req = data_request_submit(
        subject=personas.public, kind="correction", field="id_number", proposed_value=new
    )
    data_request_transition(actor=personas.city_staff, request=req, to_status=Status.IN_REVIEW)
    data_request_transition(actor=personas.city_staff, request=req, to_status=Status.DONE)
    assert Identity.objects.filter(id_number_index=index_for("id_number", new)).get().user == personas.public


def test_an_id_number_held_by_another_account_cannot_be_applied(personas: Personas) -> None:
    give_identity(personas.public, age=30)
    other = give_identity(personas.volunteer, age=40, serial="456")
    req = data_request_submit(
        subject=personas.public, kind="correction", field="id_number", proposed_value=other.id_number
    )
    data_request_transition(actor=personas.city_staff, request=req, to_status=Status.IN_REVIEW)
    with pytest.raises(ValidationError):
        data_request_transition(actor=personas.city_staff, request=req, to_status=Status.DONE)
    req.refresh_from_db()
    assert req.status == Status.IN_REVIEW
    assert Identity.objects.get(user=personas.public).id_number != other.id_number


def test_a_refusal_needs_a_reason_which_the_person_sees(personas: Personas) -> None:
    req = _correction(personas)
    client = signed_in_client(personas.city_staff)
    response = _decide(client, req, "refused")
    assert "Give the reason for the refusal" in response.content.decode()
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED
    _decide(client, req, "refused", "The ID card you showed says 张三明.")
    req.refresh_from_db()
    assert req.status == Status.REFUSED
    page = signed_in_client(personas.public).get(reverse("privacy:request", args=[req.pk]), headers=EN)
    assert "The ID card you showed says" in page.content.decode()
    assert Identity.objects.get(user=personas.public).real_name == "张三明"


@pytest.mark.parametrize(
    ("path", "to_status", "message"),
    [
        ([], "done", "This change of status is not allowed."),
        ([], "submitted", "This change of status is not allowed."),
        ([], "approved", "Unknown status."),
        ([], "", "Unknown status."),
        (["in_review", "done"], "refused", "This request is already closed."),
        (["refused"], "in_review", "This request is already closed."),
    ],
)
def test_a_decision_that_does_not_fit_the_state_machine_changes_nothing(
    personas: Personas, path: list[str], to_status: str, message: str
) -> None:
    req = _correction(personas)
    client = signed_in_client(personas.city_staff)
    for step in path:
        _decide(client, req, step, "reason")
    req.refresh_from_db()
    before = (req.status, req.closed_at, DataRequestDecision.objects.count(), AuditEvent.objects.count())
    response = _decide(client, req, to_status, "reason")
    assert message in response.content.decode()
    req.refresh_from_db()
    assert (
        req.status,
        req.closed_at,
        DataRequestDecision.objects.count(),
        AuditEvent.objects.count(),
    ) == before


def test_nobody_decides_their_own_request(personas: Personas) -> None:
    req = data_request_submit(subject=personas.city_staff, kind="deletion")
    with pytest.raises(PermissionDenied):
        data_request_transition(actor=personas.city_staff, request=req, to_status=Status.IN_REVIEW)
    assert DataRequest.objects.get().status == Status.SUBMITTED


# --- deletion --------------------------------------------------------------------------


@pytest.fixture
def erasure_calls() -> Iterator[list[int]]:
    calls: list[int] = []

    def handler(user: User, actor: User) -> int:
        calls.append(user.pk)
        return 0

    services.register_erasure_handler("test.handler", handler)
    yield calls
    services.ERASURE_HANDLERS.pop("test.handler")


def test_an_approved_deletion_erases_the_person_and_keeps_what_the_law_requires(
    personas: Personas, erasure_calls: list[int]
) -> None:
    public = personas.public
    give_identity(public, age=30)
    public.display_name = "三明"
    public.email = "sanming@example.org"
    public.save()
    consent_grant(subject=public, purpose=Purpose.HEALTH_DATA, text=text())
    ApiToken.objects.create(user=public, name="x", prefix="abcdefabcdef", digest="0" * 64)
    OutboxMessage.objects.create(
        channel="sms", recipient="+8613800138000", kind="notice", subject="s", body="hello 三明", user=public
    )
    correction = data_request_submit(
        subject=public, kind="correction", field="email", proposed_value="a@b.cn"
    )
    person = signed_in_client(public)
    assert person.get(reverse("privacy:home")).status_code == 200
    deletion = data_request_submit(subject=public, kind="deletion", note="please forget me")
    audit_before = AuditEvent.objects.count()

    staff = signed_in_client(personas.city_staff)
    _decide(staff, deletion, "in_review")
    _decide(staff, deletion, "done")

    public.refresh_from_db()
    assert public.mobile is None
    assert public.mobile_index is None
    assert public.email == ""
    assert public.display_name == f"已注销用户 #{public.pk}"
    assert not public.is_active
    assert not public.has_usable_password()
    assert not Identity.objects.filter(user=public).exists()
    assert not User.objects.filter(mobile_index=index_for("mobile", "+8613800138000")).exists()
    # Sessions and tokens are over.
    response = person.get(reverse("privacy:home"))
    assert response.status_code == 302
    assert ApiToken.objects.get(user=public).revoked_at is not None
    message = OutboxMessage.objects.get(user=public)
    assert (message.recipient, message.subject, message.body) == ("", "", "")
    # Consents are kept as proof, withdrawn.
    consent = Consent.objects.get(subject=public)
    assert consent.withdrawn_at is not None
    assert not consent_check(subject=public, purpose=Purpose.HEALTH_DATA)
    # The requests are kept without their text; the other open one is closed.
    deletion.refresh_from_db()
    correction.refresh_from_db()
    assert deletion.status == Status.DONE
    assert deletion.note == ""
    assert correction.status == Status.REFUSED
    assert correction.proposed_value == ""
    # Audit rows are kept (and hold no personal data), with one for the erasure.
    assert AuditEvent.objects.count() > audit_before
    erase = AuditEvent.objects.get(action="account.erase")
    assert erase.after is not None
    assert erase.after["identity_deleted"] is True
    assert erase.after["consents_withdrawn"] == 1
    assert "test.handler" in erase.after["handlers"]
    assert erasure_calls == [public.pk]
    assert audit_verify().ok


def test_a_refused_deletion_leaves_the_account_alone(personas: Personas) -> None:
    req = data_request_submit(subject=personas.public, kind="deletion")
    data_request_transition(
        actor=personas.city_staff, request=req, to_status=Status.REFUSED, reason="Open donation"
    )
    personas.public.refresh_from_db()
    assert personas.public.is_active
    assert personas.public.mobile == "+8613800138000"


# --- API --------------------------------------------------------------------------------


def _post(client: Client, body: object) -> Any:
    return client.post(
        "/api/v1/me/data-requests", json.dumps(body), content_type="application/json", headers=EN
    )


def test_the_api_submits_lists_and_shows_requests(personas: Personas) -> None:
    give_identity(personas.public, age=30)
    client = signed_in_client(personas.public)
    response = _post(client, {"kind": "correction", "field": "real_name", "proposed_value": "张山明"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "submitted"
    assert created["decisions"] == []
    assert client.get("/api/v1/me/data-requests").json()["count"] == 1
    assert client.get(f"/api/v1/me/data-requests/{created['id']}").json()["field"] == "real_name"
    assert _post(client, {"kind": "deletion"}).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "erase"}, "kind"),
        ({}, "kind"),
        ({"kind": "correction", "field": "nickname", "proposed_value": "x"}, "field"),
        ({"kind": "correction", "field": "id_number", "proposed_value": "123"}, "proposed_value"),
        ({"kind": "deletion", "field": "real_name"}, "field"),
        ({"kind": "deletion", "note": "x" * 1001}, "note"),
    ],
)
def test_the_api_refuses_bad_requests_with_a_422(
    personas: Personas, body: dict[str, object], field: str
) -> None:
    give_identity(personas.public, age=30)
    response = _post(signed_in_client(personas.public), body)
    assert response.status_code == 422
    assert any(field in d["loc"] for d in response.json()["error"]["details"])
    assert not DataRequest.objects.exists()


def test_the_api_needs_a_caller(personas: Personas) -> None:
    assert _post(Client(), {"kind": "deletion"}).status_code == 401
    assert not DataRequest.objects.exists()


def test_a_handler_may_see_the_proposed_value_in_clear_and_it_is_audited(personas: Personas) -> None:
    req = _correction(personas)
    client = signed_in_client(personas.city_staff)
    url = reverse("privacy:staff_request_reveal", args=[req.pk])
    assert client.get(url).status_code == 405  # GET never reveals
    response = client.post(url, headers=EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "张山明" in html
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="pii.revealed")
    assert (event.actor, event.object_id, event.after) == (
        personas.city_staff,
        str(req.pk),
        {"field": "proposed_value"},
    )
    assert "张山明" not in json.dumps([event.before, event.after], ensure_ascii=False)
    assert audit_verify().ok


@pytest.mark.parametrize("who", ["siming_staff", "auditor", "public"])
def test_nobody_else_can_reveal_a_proposed_value(personas: Personas, who: str) -> None:
    req = _correction(personas)
    response = signed_in_client(getattr(personas, who)).post(
        reverse("privacy:staff_request_reveal", args=[req.pk])
    )
    assert response.status_code in (403, 404)
    assert "张山明" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="pii.revealed").exists()
