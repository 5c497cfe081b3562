"""The staff disclosures API: list, draft, edit, submit, correct; one error shape on bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rendao.approvals.models import ApprovalRequest, Outcome
from rendao.approvals.services import request_decide
from rendao.conftest import Personas, make_staff
from rendao.core.audit import RequestMeta
from rendao.core.models import Role, User
from rendao.core.services.tokens import token_create
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.services import disclosure_publish
from rendao.disclosure.tests.helpers import draft
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
BASE = "/api/v1/staff/disclosures"
S = DisclosureStatus


def token_client(user: User) -> Client:
    _token, plaintext = token_create(actor=user, name="test", meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def state() -> tuple[Any, ...]:
    return (
        list(Disclosure.objects.order_by("pk").values_list("status", "version", "title", "figures")),
        ApprovalRequest.objects.count(),
        Entry.objects.count(),
    )


def body(personas: Personas, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "branch_id": personas.tree.city.pk,
        "kind": "progress_quarterly",
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "title": "爱心小书包 第三季度进展",
        "body": "本季度发放书包 120 个。",
        "figures": {"received": 1_250_000, "spent": 980_000},
    }
    values.update(changes)
    return values


def post(client: Client, path: str, data: Any) -> Any:
    return client.post(path, json.dumps(data), content_type="application/json")


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def test_draft_edit_submit_and_approval_publishes(personas: Personas) -> None:
    api = token_client(personas.finance)
    created = post(api, BASE, body(personas))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "draft"
    assert data["version"] == 1
    assert data["figures"] == {"received": 1_250_000, "spent": 980_000}
    pk = data["id"]

    patched = api.patch(f"{BASE}/{pk}", json.dumps({"title": "新标题"}), content_type="application/json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["title"] == "新标题"
    assert patched.json()["figures"] == {"received": 1_250_000, "spent": 980_000}

    submitted = post(api, f"{BASE}/{pk}/submit", {})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["disclosure"]["status"] == "in_approval"
    request = ApprovalRequest.objects.get(pk=submitted.json()["approval_request_id"])
    assert api.get(f"{BASE}/{pk}").json()["approval_request_id"] == request.pk

    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    detail = api.get(f"{BASE}/{pk}").json()
    assert detail["status"] == "published"
    assert detail["ledger_index"] is not None
    assert detail["approval_request_id"] is None

    listed = api.get(BASE, {"status": "published"}).json()
    assert [item["id"] for item in listed["items"]] == [pk]
    assert api.get(BASE, {"status": "draft"}).json()["count"] == 0


def test_correction_through_the_api(personas: Personas) -> None:
    first = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    api = token_client(personas.finance)
    response = post(
        api,
        f"{BASE}/{first.pk}/corrections",
        {"title": first.title, "body": first.body, "figures": {"spent": 990_000}, "correction_note": "少计"},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["version"], data["corrects_id"], data["status"]) == (2, first.pk, "draft")
    assert data["correction_note"] == "少计"


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"title": "  "}, "title"),
        ({"period_start": "2026-10-01"}, "period_end"),
        ({"figures": {"received": 12500.5}}, "figures"),
        ({"figures": {"received": 1.0}}, "figures"),
        ({"figures": {"received": "1250000"}}, "figures"),
        ({"figures": {"received": True}}, "figures"),
        ({"figures": [1, 2]}, "figures"),
        ({"kind": "tea_party"}, "kind"),
        ({"period_end": "2026-02-30"}, "period_end"),
    ],
)
def test_create_with_bad_input_is_422_and_saves_nothing(
    personas: Personas, changes: dict[str, Any], loc: str
) -> None:
    response = post(token_client(personas.finance), BASE, body(personas, **changes))
    error = assert_error(response, 422, "validation_error")
    assert any(loc in detail["loc"] for detail in error["details"]), error
    assert not Disclosure.objects.exists()


def test_a_body_that_is_not_json_is_400(personas: Personas) -> None:
    response = token_client(personas.finance).post(BASE, "{not json", content_type="application/json")
    assert_error(response, 400, "bad_request")
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize(
    "patch",
    [
        {"figures": {"received": 0.5}},
        {"title": ""},
        {"period_end": "2026-01-01"},
    ],
)
def test_edit_with_bad_input_is_422_and_changes_nothing(personas: Personas, patch: dict[str, Any]) -> None:
    d = draft(personas.finance, personas.tree.city)
    before = state()
    response = token_client(personas.finance).patch(
        f"{BASE}/{d.pk}", json.dumps(patch), content_type="application/json"
    )
    assert_error(response, 422, "validation_error")
    assert state() == before


def test_editing_a_published_one_is_422_and_changes_nothing(personas: Personas) -> None:
    d = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    before = state()
    response = token_client(personas.finance).patch(
        f"{BASE}/{d.pk}", json.dumps({"title": "改写"}), content_type="application/json"
    )
    error = assert_error(response, 422, "validation_error")
    assert "cannot be edited" in error["details"][0]["message"]
    assert state() == before


def test_submit_twice_and_correct_without_note_are_422(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    api = token_client(personas.finance)
    post(api, f"{BASE}/{d.pk}/submit", {})
    before = state()
    assert_error(post(api, f"{BASE}/{d.pk}/submit", {}), 422, "validation_error")
    published = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city)
    )
    before = state()
    response = post(
        api,
        f"{BASE}/{published.pk}/corrections",
        {"title": "t", "body": "b", "figures": {}, "correction_note": " "},
    )
    error = assert_error(response, 422, "validation_error")
    assert any("correction_note" in detail["loc"] for detail in error["details"])
    assert_error(
        post(
            api,
            f"{BASE}/{published.pk}/corrections",
            {"title": "t", "body": "b", "figures": {"x": 1.5}, "correction_note": "n"},
        ),
        422,
        "validation_error",
    )
    assert state() == before


def test_out_of_scope_is_404_and_without_manage_403(personas: Personas) -> None:
    siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    d = draft(siming_finance, personas.tree.siming)
    huli = token_client(huli_finance)
    before = state()
    assert_error(huli.get(f"{BASE}/{d.pk}"), 404, "not_found")
    assert_error(post(huli, f"{BASE}/{d.pk}/submit", {}), 404, "not_found")
    assert_error(
        huli.patch(f"{BASE}/{d.pk}", json.dumps({"title": "x"}), content_type="application/json"),
        404,
        "not_found",
    )
    assert d.pk not in [item["id"] for item in huli.get(BASE).json()["items"]]
    assert_error(post(huli, BASE, body(personas, branch_id=personas.tree.siming.pk)), 404, "not_found")
    branch_admin = token_client(personas.siming_staff)
    assert_error(post(branch_admin, BASE, body(personas)), 403, "forbidden")
    assert_error(branch_admin.get(BASE), 403, "forbidden")
    assert_error(Client().get(BASE), 401, "unauthorized")
    assert state() == before
