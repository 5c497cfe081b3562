"""/api/v1/staff/goods/orders and /write-offs: create, list, detail, issue; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.core.services.tokens import token_create
from rendao.goods.models import DistributionOrder, Lot, OrderStatus, Pick, WriteOff
from rendao.goods.tests import goods_factory as f

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/staff/goods/orders"
WRITE_OFFS = "/api/v1/staff/goods/write-offs"
TODAY = timezone.localdate()


def token_client(user: User) -> Client:
    _token, plaintext = token_create(actor=user, name="test", meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def order_body(s: f.Scene, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "warehouse_id": s.wh.pk,
        "recipient_id": s.school.pk,
        "purpose": "新学期发放",
        "lines": [{"item_name": "书包", "specification": "", "unit": "个", "quantity": 20}],
    }
    body.update(changes)
    return body


def test_create_list_detail_and_issue(personas: Personas) -> None:
    s = f.scene(personas)
    early = f.lot(s.wh, receiver=s.keeper, quantity=10, expires_on=TODAY + timedelta(days=3))
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    client = token_client(personas.siming_staff)
    created = client.post(ORDERS, order_body(s), content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == OrderStatus.REQUESTED
    assert data["lines"][0]["quantity"] == 20
    listed = client.get(ORDERS).json()
    assert listed["count"] == 1
    order = DistributionOrder.objects.get()
    # Not approved yet: 422.
    early_issue = client.post(f"{ORDERS}/{order.pk}/issue", {}, content_type="application/json")
    assert early_issue.status_code == 422
    assert order.approval_request is not None
    f.decide_all(order.approval_request, personas.city_staff)
    issued = client.post(f"{ORDERS}/{order.pk}/issue", {}, content_type="application/json")
    assert issued.status_code == 200, issued.content
    picks = issued.json()["picks"]
    assert picks[0]["lot"] == early.number
    assert [p["quantity"] for p in picks] == [10, 10]
    assert client.get(f"{ORDERS}/{order.pk}").json()["status"] == OrderStatus.ISSUED
    assert f.lot_identity_holds()


@pytest.mark.parametrize(
    "changes",
    [
        {"lines": []},
        {"lines": [{"item_name": "书包", "unit": "个", "quantity": 0}]},
        {"lines": [{"item_name": "书包", "unit": "个", "quantity": "20"}]},
        {"lines": [{"item_name": "书包", "unit": "个", "quantity": 999}]},
        {"lines": [{"item_name": "雨衣", "unit": "件", "quantity": 1}]},
        {"purpose": ""},
        {"recipient_id": 99_999},
        {"project_id": 99_999},
        {"need_id": 99_999},
        {"warehouse_id": "x"},
    ],
)
def test_bad_order_bodies_get_a_422_and_change_nothing(personas: Personas, changes: dict[str, Any]) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    response = token_client(personas.siming_staff).post(
        ORDERS, order_body(s, **changes), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert "error" in response.json()
    assert not DistributionOrder.objects.exists()


def test_out_of_scope_callers_get_404_or_403(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    order = f.approved_order(s, lines=[("书包", "", "个", 5)])
    huli = token_client(personas.huli_staff)
    assert huli.get(f"{ORDERS}/{order.pk}").status_code == 404
    assert huli.get(ORDERS).json()["count"] == 0
    assert huli.post(ORDERS, order_body(s), content_type="application/json").status_code == 404
    assert huli.post(f"{ORDERS}/{order.pk}/issue", {}, content_type="application/json").status_code == 404
    # Finance sees goods, but may not move them.
    auditor = token_client(personas.finance)
    assert auditor.get(f"{ORDERS}/{order.pk}").status_code == 200
    assert auditor.post(ORDERS, order_body(s), content_type="application/json").status_code == 403
    assert auditor.post(f"{ORDERS}/{order.pk}/issue", {}, content_type="application/json").status_code == 403
    assert DistributionOrder.objects.count() == 1
    assert not Pick.objects.exists()


def test_explicit_picks_through_the_api(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=30)
    order = f.approved_order(s, lines=[("书包", "", "个", 5)])
    line = order.lines.get()
    client = token_client(personas.siming_staff)
    url = f"{ORDERS}/{order.pk}/issue"
    bad = client.post(
        url,
        {"picks": [{"line_id": line.pk, "lot_id": lot.pk, "quantity": 4}]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert not Pick.objects.exists()
    good = client.post(
        url,
        {"picks": [{"line_id": line.pk, "lot_id": lot.pk, "quantity": 5}]},
        content_type="application/json",
    )
    assert good.status_code == 200


def test_write_offs_through_the_api(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=30)
    client = token_client(personas.siming_staff)
    body = {
        "warehouse_id": s.wh.pk,
        "lot_id": lot.pk,
        "quantity": 3,
        "reason": "damaged",
        "explanation": "受潮",
    }
    created = client.post(WRITE_OFFS, body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "requested"
    pk = created.json()["id"]
    assert client.get(f"{WRITE_OFFS}/{pk}").json()["lot"] == lot.number
    assert client.get(WRITE_OFFS).json()["count"] == 1
    for changes in (
        {"quantity": 31},
        {"quantity": 0},
        {"reason": "stolen"},
        {"explanation": ""},
        {"lot_id": 99_999},
    ):
        response = client.post(WRITE_OFFS, {**body, **changes}, content_type="application/json")
        assert response.status_code == 422, (changes, response.content)
    assert token_client(personas.huli_staff).get(f"{WRITE_OFFS}/{pk}").status_code == 404
    assert (
        token_client(personas.finance).post(WRITE_OFFS, body, content_type="application/json").status_code
        == 403
    )
    assert WriteOff.objects.count() == 1
    assert Lot.objects.get(pk=lot.pk).quantity_written_off == 0
