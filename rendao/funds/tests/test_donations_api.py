"""The donations API: idempotent creation, the one error shape on bad input, follow by token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rendao.conftest import Personas
from rendao.funds.models import Donation, FundraisingProject
from rendao.funds.tests.factories import open_project, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance)


def post(body: dict[str, Any], key: str | None = "key-1") -> Any:
    headers = {"Accept-Language": "en"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return Client().post(
        "/api/v1/donations", json.dumps(body), content_type="application/json", headers=headers
    )


def body(project: FundraisingProject, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "project_id": project.pk,
        "amount_fen": 5_000,
        "channel": "sandbox",
        "donor_name": "张三",
    }
    values.update(changes)
    return values


def test_creating_twice_with_one_key_gives_one_order_and_a_changed_body_is_a_conflict(
    project: FundraisingProject,
) -> None:
    first = post(body(project))
    assert first.status_code == 201
    data = first.json()
    assert data["status"] == "paying"
    assert data["checkout"] == {
        "kind": "redirect",
        "url": f"/pay/sandbox/{data['out_trade_no']}/",
        "params": {},
    }
    again = post(body(project))
    assert again.status_code == 200
    assert again.json()["out_trade_no"] == data["out_trade_no"]
    conflict = post(body(project, amount_fen=6_000))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    assert Donation.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": -1}, "amount_fen"),
        ({"amount_fen": 12.5}, "amount_fen"),
        ({"amount_fen": "5000"}, "amount_fen"),
        ({"amount_fen": 10**12}, "amount_fen"),
        ({"channel": "bitcoin"}, "channel"),
        ({"project_id": 0}, "project_id"),
    ],
)
def test_bad_bodies_get_a_422_naming_the_field_and_create_nothing(
    project: FundraisingProject, changes: dict[str, Any], field: str
) -> None:
    response = post(body(project, **changes))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(detail["loc"][-1] == field for detail in error["details"])
    assert Donation.objects.count() == 0


def test_a_create_without_an_idempotency_key_is_refused(project: FundraisingProject) -> None:
    response = post(body(project), key=None)
    assert response.status_code == 422
    assert Donation.objects.count() == 0


def test_a_closed_project_is_refused_with_the_reason(project: FundraisingProject) -> None:
    FundraisingProject.objects.filter(pk=project.pk).update(status="closed")
    response = post(body(project))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["message"] == "This project is not open for donations."
    assert Donation.objects.count() == 0


def test_the_follow_endpoint_shows_the_paid_donation_and_hides_unknown_tokens(
    project: FundraisingProject,
) -> None:
    created = post(body(project)).json()
    donation = Donation.objects.get(out_trade_no=created["out_trade_no"])
    pay(donation)
    token = donation.follow_token
    followed = Client().get(f"/api/v1/donations/follow/{token}")
    assert followed.status_code == 200
    assert followed.json()["status"] == "paid"
    assert followed.json()["ledger_index"] is not None
    assert Client().get("/api/v1/donations/follow/nosuchtokenxxxxxxxxxxxxxxx").status_code == 404


def test_a_channel_that_does_not_answer_leaves_no_order_and_a_retry_with_the_key_makes_one(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rendao.funds.payments import TransientChannelError
    from rendao.funds.payments.sandbox.adapter import SandboxChannel

    def busy(*args: Any, **kwargs: Any) -> None:
        raise TransientChannelError("sandbox: busy")

    with monkeypatch.context() as patched:
        patched.setattr(SandboxChannel, "create_order", busy)
        response = post(body(project), key="retry-me")
    assert response.status_code == 422
    assert "not answering" in response.json()["error"]["details"][0]["message"]
    assert Donation.objects.count() == 0
    retried = post(body(project), key="retry-me")
    assert retried.status_code == 201
    assert Donation.objects.get().status == "paying"
