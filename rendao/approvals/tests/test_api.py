"""The approvals API: my pending items, one item, decide — the same rules as the pages."""

from __future__ import annotations

import json

import pytest

from rendao.approvals.models import ApprovalRequest, Decision, RequestStatus
from rendao.approvals.tests.helpers import requester_at, submit
from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.services.tokens import token_create

pytestmark = pytest.mark.django_db


def _post(client, url: str, body: object):  # type: ignore[no-untyped-def]
    return client.post(url, json.dumps(body), content_type="application/json")


def test_pending_lists_what_i_may_decide(personas: Personas) -> None:
    tree = personas.tree
    mine = submit(personas.siming_staff, tree.street, title="mine")
    theirs = submit(requester_at(tree.street), tree.street, title="theirs")
    response = signed_in_client(personas.siming_staff).get("/api/v1/approvals/pending")
    assert response.status_code == 200
    data = response.json()
    assert [i["id"] for i in data["items"]] == [theirs.pk]
    assert data["items"][0]["current_role"] == "branch_admin"
    assert mine.pk not in [i["id"] for i in data["items"]]


def test_decide_through_the_api(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    client = signed_in_client(personas.siming_staff)
    detail = client.get(f"/api/v1/approvals/{item.pk}").json()
    assert detail["may_decide"] is True
    assert len(detail["steps"]) == 2
    response = _post(
        client,
        f"/api/v1/approvals/{item.pk}/decide",
        {"outcome": "approve", "step_id": detail["current_step_id"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decisions"][0]["decided_by"]["username"] == "siming"
    assert body["may_decide"] is False
    assert body["current_step_id"] != detail["current_step_id"]


def test_decide_refusals_have_the_api_error_shape_and_change_nothing(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    url = f"/api/v1/approvals/{item.pk}/decide"
    step = item.current_step_id
    assert step is not None
    client = signed_in_client(personas.siming_staff)
    cases = [
        (client, {"outcome": "reject", "step_id": step}, 422),
        (client, {"outcome": "return", "comment": " ", "step_id": step}, 422),
        (client, {"outcome": "maybe", "step_id": step}, 422),
        (client, {"outcome": "approve"}, 422),
        (client, {"outcome": "approve", "step_id": step + 999}, 409),
        (signed_in_client(item.requester), {"outcome": "approve", "step_id": step}, 403),
        (signed_in_client(personas.reviewer), {"outcome": "approve", "step_id": step}, 404),
        (signed_in_client(personas.huli_staff), {"outcome": "approve", "step_id": step}, 404),
    ]
    for who, body, status in cases:
        response = _post(who, url, body)
        assert response.status_code == status, (body, response.content)
        assert "error" in response.json()
    bad_json = client.post(url, "{not json", content_type="application/json")
    assert bad_json.status_code == 400
    assert not Decision.objects.exists()
    assert ApprovalRequest.objects.get(pk=item.pk).status == RequestStatus.PENDING


def test_a_token_limited_to_another_branch_cannot_decide(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    _, plaintext = token_create(actor=personas.city_staff, name="t", branch=tree.huli, meta=RequestMeta())
    client = signed_in_client(personas.city_staff)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {plaintext}"
    assert client.get("/api/v1/approvals/pending").json()["items"] == []
    response = _post(
        client, f"/api/v1/approvals/{item.pk}/decide", {"outcome": "approve", "step_id": item.current_step_id}
    )
    assert response.status_code in (403, 404)
    assert not Decision.objects.exists()


def test_the_pending_list_costs_the_same_whatever_the_number_of_items(personas: Personas) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree = personas.tree
    requester = requester_at(tree.street)
    submit(requester, tree.street)
    client = signed_in_client(personas.siming_staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/approvals/pending").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(10):
        submit(requester, tree.community, title=f"x{i}")
    assert count() == few
