"""Approval through the engine: two distinct approvers, never the requester; rejection, withdrawal release."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.approvals.models import Outcome, RequestStatus
from rendao.approvals.services import request_decide, request_withdraw
from rendao.conftest import Personas
from rendao.core.models import Membership, Role
from rendao.disbursements.models import Status
from rendao.disbursements.tests.factories import approve, fund, request, world
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db


def test_approval_by_both_steps_logs_the_allocation_without_personal_data(personas: Personas) -> None:
    w = world(personas)
    d = approve(w, request(w, amount_fen=250_000))
    assert d.status == Status.APPROVED
    event = d.events.get(to_status=Status.APPROVED)
    assert event.ledger_index is not None
    leaf = json.loads(bytes(Entry.objects.get(index=event.ledger_index).data))
    assert leaf["kind"] == "allocation"
    assert {k: leaf[k] for k in leaf if k not in ("v", "kind", "at", "index")} == {
        "disbursement": d.number,
        "project": w.project.pk,
        "fund": w.fund.code,
        "payee": w.payee.name,
        "category": "charitable",
        "amount_fen": 250_000,
        "related_party": False,
    }
    assert "6217" not in json.dumps(leaf)  # the bank account stays off the log
    # Still reserved until paid.
    assert fund(w).reserved_fen == 250_000


def test_the_requester_cannot_decide_any_step(personas: Personas) -> None:
    w = world(personas)
    # The requester also holds the first step's role at 思明.
    Membership.objects.create(
        user=personas.finance, branch=personas.tree.siming, role=Role.objects.get(code="branch_admin")
    )
    d = request(w)
    assert d.approval_request is not None
    with pytest.raises((PermissionDenied, ValidationError)):
        request_decide(actor=personas.finance, request=d.approval_request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == Status.REQUESTED
    assert d.approval_request.current_step is not None
    assert d.approval_request.current_step.position == 1


def test_one_person_cannot_approve_both_steps_above_the_threshold(personas: Personas, settings: Any) -> None:
    settings.APPROVAL_TWO_PERSON_FEN = 500_000
    w = world(personas)
    # The second finance officer also administers 思明: may take one step, not both.
    Membership.objects.create(
        user=w.approver, branch=personas.tree.siming, role=Role.objects.get(code="branch_admin")
    )
    d = request(w, amount_fen=600_000)
    assert d.approval_request is not None
    assert d.approval_request.steps.count() >= 2
    request_decide(actor=w.approver, request=d.approval_request, outcome=Outcome.APPROVE)
    with pytest.raises((PermissionDenied, ValidationError)):
        request_decide(actor=w.approver, request=d.approval_request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == Status.REQUESTED
    # A different finance officer completes it.
    third = Membership.objects.create(
        user=personas.city_staff, branch=personas.tree.city, role=Role.objects.get(code="finance")
    )
    assert third.pk
    request_decide(actor=personas.city_staff, request=d.approval_request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == Status.APPROVED
    deciders = set(d.approval_request.decisions.values_list("decided_by_id", flat=True))
    assert deciders == {w.approver.pk, personas.city_staff.pk}


def test_rejection_releases_the_reservation(personas: Personas) -> None:
    w = world(personas)
    d = request(w, amount_fen=400_000)
    assert d.approval_request is not None
    request_decide(
        actor=personas.siming_staff, request=d.approval_request, outcome=Outcome.REJECT, comment="预算不符"
    )
    d.refresh_from_db()
    assert d.status == Status.REJECTED
    assert fund(w).reserved_fen == 0
    assert d.events.filter(to_status=Status.REJECTED).exists()


def test_withdrawal_releases_the_reservation(personas: Personas) -> None:
    w = world(personas)
    d = request(w, amount_fen=400_000)
    assert d.approval_request is not None
    request_withdraw(actor=personas.finance, request=d.approval_request)
    d.refresh_from_db()
    assert d.status == Status.WITHDRAWN
    assert fund(w).reserved_fen == 0
    # The released money can be requested again.
    request(w, amount_fen=1_000_000)


def test_a_returned_request_keeps_its_reservation(personas: Personas) -> None:
    w = world(personas)
    d = request(w, amount_fen=400_000)
    assert d.approval_request is not None
    request_decide(
        actor=personas.siming_staff, request=d.approval_request, outcome=Outcome.RETURN, comment="补充发票"
    )
    d.refresh_from_db()
    assert d.status == Status.REQUESTED
    assert d.approval_request.status == RequestStatus.RETURNED
    assert fund(w).reserved_fen == 400_000
