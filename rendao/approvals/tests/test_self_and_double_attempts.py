"""200 self-approval and double-decision attempts through pages and API: none succeeds."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from rendao.approvals.models import ApprovalRequest, Decision
from rendao.approvals.services import request_decide
from rendao.approvals.tests.helpers import DISTRICT, SAME, requester_at, set_flow, submit
from rendao.conftest import Personas, signed_in_client
from rendao.core.models import AuditEvent, OutboxMessage, Role

pytestmark = pytest.mark.django_db

ITEMS = 25  # per kind; 4 attempts each, 2 kinds: 200 attempts


def _state() -> tuple[object, ...]:
    return (
        tuple(ApprovalRequest.objects.order_by("pk").values_list("pk", "status", "round", "current_step_id")),
        tuple(Decision.objects.order_by("pk").values_list("pk", "decided_by_id", "step_id")),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_two_hundred_self_and_double_decision_attempts_all_fail(personas: Personas) -> None:
    tree = personas.tree
    # Both steps are a branch administrator's: the same person holds the role for each.
    set_flow([(Role.BRANCH_ADMIN, SAME, None), (Role.BRANCH_ADMIN, DISTRICT, None)])
    own = [submit(personas.siming_staff, tree.street, title=f"own {i}") for i in range(ITEMS)]
    half_done = []
    for i in range(ITEMS):
        item = submit(requester_at(tree.street, f"r{i}"), tree.street, title=f"half {i}")
        first_step = item.current_step_id
        request_decide(actor=personas.city_staff, request=item, outcome="approve")
        half_done.append((item, first_step))
    before = _state()

    self_page = signed_in_client(personas.siming_staff)
    double = signed_in_client(personas.city_staff)
    responses = []
    for item in own:
        url = reverse("approvals:decide", kwargs={"pk": item.pk})
        api = f"/api/v1/approvals/{item.pk}/decide"
        step = item.current_step_id
        responses.append(self_page.post(url, {"outcome": "approve", "step": step}))
        responses.append(self_page.post(url, {"outcome": "reject", "comment": "no", "step": step}))
        responses.append(
            self_page.post(
                api, json.dumps({"outcome": "approve", "step_id": step}), content_type="application/json"
            )
        )
        responses.append(
            self_page.post(
                api,
                json.dumps({"outcome": "return", "comment": "r", "step_id": step}),
                content_type="application/json",
            )
        )
    for item, first_step in half_done:
        item.refresh_from_db()
        url = reverse("approvals:decide", kwargs={"pk": item.pk})
        api = f"/api/v1/approvals/{item.pk}/decide"
        responses.append(double.post(url, {"outcome": "approve", "step": item.current_step_id}))
        responses.append(double.post(url, {"outcome": "approve", "step": first_step}))
        responses.append(
            double.post(
                api,
                json.dumps({"outcome": "approve", "step_id": item.current_step_id}),
                content_type="application/json",
            )
        )
        responses.append(
            double.post(
                api,
                json.dumps({"outcome": "approve", "step_id": first_step}),
                content_type="application/json",
            )
        )

    assert len(responses) == 200
    succeeded = [
        r for r in responses if r.status_code == 200 and r["Content-Type"].startswith("application/json")
    ]
    assert succeeded == []
    # Refusals: 403 (no authority), 409 (API, stale step), or for a page form about a
    # step that has moved on, a redirect back to the item with the error (25 of them).
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {302, 403, 409}, set(statuses)
    assert statuses.count(302) == ITEMS
    assert _state() == before
