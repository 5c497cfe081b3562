"""The staff disbursements API: list, detail, request, payments; one error shape on bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import Role, User
from rendao.core.services.tokens import token_create
from rendao.disbursements.models import Disbursement, Payment, Status
from rendao.disbursements.tests.factories import World, approved, fund, world
from rendao.funds.models import Account

pytestmark = pytest.mark.django_db
BASE = "/api/v1/staff/disbursements"


def token_client(user: User) -> Client:
    _token, plaintext = token_create(actor=user, name="test", meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def state() -> tuple[Any, ...]:
    return (
        list(Disbursement.objects.order_by("pk").values_list("status", "paid_fen")),
        Payment.objects.count(),
        list(Account.objects.order_by("pk").values_list("balance_fen", "reserved_fen")),
    )


def body(w: World, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "fund_id": w.fund.pk,
        "payee_id": w.payee.pk,
        "amount_fen": 50_000,
        "purpose": "采购药品",
        "category": "charitable",
        "payee_bank_account": "工商银行 0002",
    }
    values.update(changes)
    return values


def test_create_list_detail_and_pay(personas: Personas) -> None:
    w = world(personas)
    client = token_client(personas.finance)
    response = client.post(BASE, body(w), content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "requested"
    assert created["amount_fen"] == 50_000
    assert fund(w).reserved_fen == 50_000
    listed = client.get(BASE, {"status": "requested"}).json()
    assert [item["number"] for item in listed["items"]] == [created["number"]]
    detail = client.get(f"{BASE}/{created['number']}").json()
    assert detail["events"][0]["to_status"] == "requested"
    d = approved(w)
    pay = {"bank_reference": "API-1", "paid_on": timezone.localdate().isoformat(), "amount_fen": 40_000}
    first = client.post(f"{BASE}/{d.number}/payments", pay, content_type="application/json")
    assert first.status_code == 201, first.content
    again = client.post(f"{BASE}/{d.number}/payments", pay, content_type="application/json")
    assert again.status_code == 200
    assert again.json() == first.json()
    d.refresh_from_db()
    assert (d.status, d.paid_fen) == (Status.PARTLY_PAID, 40_000)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_fen": 0},
        {"amount_fen": "100"},
        {"amount_fen": 1.5},
        {"amount_fen": 1_000_001},
        {"purpose": ""},
        {"purpose": "x" * 301},
        {"category": "gift"},
        {"payee_bank_account": ""},
        {"payee_id": 999_999},
        {"document_ids": ["00000000-0000-0000-0000-000000000000"]},
        {"fund_id": None},
    ],
)
def test_bad_request_bodies_get_a_422_in_the_error_shape_and_change_nothing(
    personas: Personas, changes: dict[str, Any]
) -> None:
    w = world(personas)
    before = state()
    response = token_client(personas.finance).post(BASE, body(w, **changes), content_type="application/json")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]
    assert state() == before


def test_a_body_that_is_not_json_is_400(personas: Personas) -> None:
    w = world(personas)
    response = token_client(personas.finance).post(BASE, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert fund(w).reserved_fen == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_fen": 0},
        {"amount_fen": 100_001},
        {"amount_fen": "5"},
        {"bank_reference": ""},
        {"bank_reference": "a b"},
        {"paid_on": "2999-01-01"},
        {"paid_on": "soon"},
    ],
)
def test_bad_payment_bodies_get_a_422_and_change_nothing(personas: Personas, changes: dict[str, Any]) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    pay = {
        "bank_reference": "API-1",
        "paid_on": timezone.localdate().isoformat(),
        "amount_fen": 1_000,
        **changes,
    }
    before = state()
    response = token_client(personas.finance).post(
        f"{BASE}/{d.number}/payments", pay, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert state() == before


def test_out_of_scope_callers_get_404_or_403_and_nothing_changes(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    before = state()
    client = token_client(huli_finance)
    assert client.get(f"{BASE}/{d.number}").status_code == 404
    assert client.get(BASE).json()["items"] == []
    pay = {"bank_reference": "X-1", "paid_on": timezone.localdate().isoformat(), "amount_fen": 1_000}
    assert client.post(f"{BASE}/{d.number}/payments", pay, content_type="application/json").status_code == 404
    assert client.post(BASE, body(w), content_type="application/json").status_code == 404
    auditor = signed_in_client(personas.auditor)
    assert auditor.get(f"{BASE}/{d.number}").status_code == 200
    siming = token_client(personas.siming_staff)
    assert siming.get(BASE).status_code == 403
    assert siming.post(BASE, body(w), content_type="application/json").status_code == 403
    assert Client().get(BASE).status_code == 401
    assert state() == before
