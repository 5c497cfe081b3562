"""/api/v1/staff/goods: warehouses, stock pages, intakes and transfers, in scope, bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.core.services.tokens import token_create
from rendao.goods.models import Intake, Lot, Move
from rendao.goods.tests.factories import line, one_lot, receive, soon, warehouse

pytestmark = pytest.mark.django_db
BASE = "/api/v1/staff/goods"


def token_client(user: User) -> Client:
    _token, plaintext = token_create(actor=user, name="test", branch=None, meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def _intake_body(wh_pk: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "warehouse": wh_pk,
        "donor_kind": "organisation",
        "organisation_name": "爱心企业",
        "lines": [{"item_name": "书包", "unit": "个", "quantity": 10, "unit_value_fen": 5_000}],
    }
    body.update(extra)
    return body


def test_warehouses_and_stock_in_scope(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    receive(
        personas.siming_staff,
        wh,
        line(item_name="面包", quantity=3, unit_value_fen=100, expires_on=soon(3)),
        line(),
    )
    siming = token_client(personas.siming_staff)
    listed = siming.get(f"{BASE}/warehouses").json()
    assert [(w["code"], w["units"], w["value_fen"]) for w in listed] == [(wh.code, 103, 300 + 100 * 2_500)]
    stock = siming.get(f"{BASE}/warehouses/{wh.pk}/stock", {"expiring_within_days": 10}).json()
    assert [r["item_name"] for r in stock["items"]] == ["面包"]
    assert stock["has_next"] is False
    assert siming.get(f"{BASE}/warehouses/{wh.pk}/stock", {"page": 0}).status_code == 422
    huli = token_client(personas.huli_staff)
    assert huli.get(f"{BASE}/warehouses").json() == []
    assert huli.get(f"{BASE}/warehouses/{wh.pk}/stock").status_code == 404


def test_an_intake_through_the_api(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    client = token_client(personas.siming_staff)
    created = client.post(f"{BASE}/intakes", _intake_body(wh.pk), content_type="application/json")
    assert created.status_code == 201
    data = created.json()
    assert data["value_fen"] == 50_000
    assert data["receipt_number"]
    assert len(data["lots"]) == 1
    assert client.get(f"{BASE}/intakes/{data['id']}").json()["number"] == data["number"]
    assert [i["id"] for i in client.get(f"{BASE}/intakes").json()["items"]] == [data["id"]]
    assert token_client(personas.huli_staff).get(f"{BASE}/intakes/{data['id']}").status_code == 404


@pytest.mark.parametrize(
    "extra",
    [
        {"lines": []},
        {"lines": [{"item_name": "书包", "unit": "个", "quantity": "10"}]},
        {"lines": [{"item_name": "书包", "unit": "个", "quantity": 0}]},
        {"lines": [{"item_name": "书包", "unit": "个", "quantity": 1, "unit_value_fen": 1.5}]},
        {
            "lines": [
                {
                    "item_name": "牛奶",
                    "unit": "箱",
                    "quantity": 1,
                    "unit_value_fen": 1,
                    "expires_on": "2001-01-01",
                }
            ]
        },
        {"donor_kind": "person", "organisation_name": ""},
        {"donor_kind": "ghost"},
        {"receipt_wanted": "yes"},
    ],
)
def test_bad_intakes_are_422_and_change_nothing(personas: Personas, extra: dict[str, Any]) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    response = token_client(personas.siming_staff).post(
        f"{BASE}/intakes", _intake_body(wh.pk, **extra), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert Intake.objects.count() == 0
    assert Lot.objects.count() == 0


def test_intakes_out_of_scope_or_without_the_right(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    body = _intake_body(wh.pk)
    assert (
        token_client(personas.huli_staff)
        .post(f"{BASE}/intakes", body, content_type="application/json")
        .status_code
        == 404
    )
    assert (
        token_client(personas.finance)
        .post(f"{BASE}/intakes", body, content_type="application/json")
        .status_code
        == 403
    )
    assert Client().post(f"{BASE}/intakes", body, content_type="application/json").status_code == 401
    assert Intake.objects.count() == 0


def test_transfers_through_the_api(personas: Personas) -> None:
    a = warehouse(personas.siming_staff, personas.tree.siming)
    b = warehouse(personas.siming_staff, personas.tree.siming)
    lot = one_lot(personas.siming_staff, a, quantity=10)
    client = token_client(personas.siming_staff)
    body = {"lot": lot.pk, "source": a.pk, "target": b.pk, "quantity": 4}
    for bad in (
        {**body, "quantity": 11},
        {**body, "quantity": "4"},
        {**body, "target": a.pk},
        {**body, "quantity": True},
    ):
        assert client.post(f"{BASE}/transfers", bad, content_type="application/json").status_code == 422
    huli = token_client(personas.huli_staff)
    assert huli.post(f"{BASE}/transfers", body, content_type="application/json").status_code == 404
    assert Move.objects.filter(kind="transfer").count() == 0
    moved = client.post(f"{BASE}/transfers", body, content_type="application/json")
    assert moved.status_code == 201
    assert moved.json()["quantity"] == 4


def test_an_unknown_project_is_422(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    response = token_client(personas.siming_staff).post(
        f"{BASE}/intakes", _intake_body(wh.pk, project=999_999), content_type="application/json"
    )
    assert response.status_code == 422
    assert Intake.objects.count() == 0
