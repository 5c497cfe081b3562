"""0 of 200 self-approval attempts through HTTP succeed: a requester never approves their own disbursement.

The requester holds every role the flow asks for (branch administrator at 思明
and at the city, finance at the city), so only the engine's requester rule
stands between them and their own money. Half the attempts go through the
approvals page, half through the API, with the right step id, a stale one and
none, approving, rejecting and returning.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rendao.approvals.models import ApprovalRequest, Decision, RequestStatus
from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import Membership, Role
from rendao.core.services.tokens import token_create
from rendao.disbursements.models import Disbursement, DisbursementEvent, Status
from rendao.disbursements.tests.factories import request, world
from rendao.funds.models import Account
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
ATTEMPTS = 200


def state() -> tuple[Any, ...]:
    return (
        list(Disbursement.objects.order_by("pk").values_list("status", "paid_fen")),
        list(ApprovalRequest.objects.order_by("pk").values_list("status", "current_step_id", "round")),
        Decision.objects.count(),
        DisbursementEvent.objects.count(),
        Entry.objects.count(),
        list(Account.objects.order_by("pk").values_list("balance_fen", "reserved_fen")),
    )


def test_no_self_approval_attempt_succeeds(personas: Personas) -> None:
    w = world(personas)
    requester = personas.finance
    for branch in (personas.tree.siming, personas.tree.city):
        Membership.objects.create(
            user=requester, branch=branch, role=Role.objects.get(code=Role.BRANCH_ADMIN)
        )
    ds = [request(w, amount_fen=10_000 + i) for i in range(8)]
    items = [d.approval_request for d in ds]
    assert all(item is not None and item.status == RequestStatus.PENDING for item in items)
    page = signed_in_client(requester)
    page.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    _token, plaintext = token_create(actor=requester, name="self", meta=RequestMeta())
    api = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")
    before = state()
    outcomes = ["approve", "approve", "reject", "return"]
    succeeded = 0
    for i in range(ATTEMPTS):
        item = items[i % len(items)]
        assert item is not None
        step = item.current_step_id
        step_id = [step, step, (step or 0) + 1][i % 3]
        outcome = outcomes[i % len(outcomes)]
        comment = "self" if outcome != "approve" else ""
        if i % 2 == 0:
            data: dict[str, Any] = {"outcome": outcome, "comment": comment}
            if i % 4 == 0:
                data["step"] = step_id
            response = page.post(f"/staff/approvals/{item.pk}/decide/", data)
            # A success is a redirect to the item with the decision recorded.
            ok = response.status_code == 302 and Decision.objects.filter(request=item).exists()
        else:
            response = api.post(
                f"/api/v1/approvals/{item.pk}/decide",
                {"outcome": outcome, "comment": comment, "step_id": step_id},
                content_type="application/json",
            )
            ok = 200 <= response.status_code < 300
        succeeded += int(ok)
    assert succeeded == 0
    assert state() == before
    assert all(d.status == Status.REQUESTED for d in Disbursement.objects.all())
