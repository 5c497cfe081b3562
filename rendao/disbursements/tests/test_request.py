"""Requesting a disbursement reserves its amount; over-available requests change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.approvals.models import ApprovalRequest, RequestStatus
from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.disbursements.models import Disbursement, DisbursementEvent, Status
from rendao.disbursements.tests.factories import fund, make_payee, request, world
from rendao.funds.models import Account

pytestmark = pytest.mark.django_db


def state() -> tuple[Any, ...]:
    return (
        Disbursement.objects.count(),
        DisbursementEvent.objects.count(),
        ApprovalRequest.objects.count(),
        list(Account.objects.order_by("pk").values_list("balance_fen", "reserved_fen")),
    )


def test_a_request_reserves_its_amount_and_enters_approval(personas: Personas) -> None:
    w = world(personas)
    d = request(w, amount_fen=300_000)
    assert d.number.startswith("ZB-")
    assert d.number.endswith(f"-{d.pk:06d}")
    assert d.status == Status.REQUESTED
    assert d.project_id == w.project.pk
    assert d.branch_id == w.fund.branch_id
    assert (fund(w).balance_fen, fund(w).reserved_fen) == (1_000_000, 300_000)
    assert d.approval_request is not None
    assert d.approval_request.status == RequestStatus.PENDING
    assert d.approval_request.amount_fen == 300_000
    assert list(d.events.values_list("to_status", flat=True)) == [Status.REQUESTED]
    assert AuditEvent.objects.filter(action="disbursement.request", object_id=str(d.pk)).exists()


def test_the_payee_related_party_flag_is_copied(personas: Personas) -> None:
    w = world(personas)
    w.payee = make_payee(personas.tree.siming, name="理事单位", related_party=True)
    d = request(w)
    assert d.related_party is True


def test_over_available_is_refused_naming_the_available_amount_and_nothing_changes(
    personas: Personas,
) -> None:
    w = world(personas)
    request(w, amount_fen=700_000)
    before = state()
    with pytest.raises(ValidationError, match=r"Only 3,000.00 yuan of .* is available"):
        request(w, amount_fen=300_001)
    assert state() == before
    # Exactly what is left is fine; then nothing is.
    request(w, amount_fen=300_000)
    with pytest.raises(ValidationError, match=r"Only 0.00 yuan"):
        request(w, amount_fen=1)
    assert fund(w).reserved_fen == 1_000_000


def test_two_requests_in_a_row_cannot_reserve_more_than_the_balance(personas: Personas) -> None:
    w = world(personas)
    request(w, amount_fen=600_000)
    with pytest.raises(ValidationError):
        request(w, amount_fen=600_000)
    assert fund(w).reserved_fen == 600_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_fen", 0),
        ("amount_fen", -5),
        ("amount_fen", 10.5),
        ("amount_fen", True),
        ("purpose", ""),
        ("purpose", "x" * 301),
        ("category", "bribes"),
        ("payee_bank_account", "  "),
        ("payee_bank_account", "1" * 101),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_changes(
    personas: Personas, field: str, value: Any
) -> None:
    w = world(personas)
    before = state()
    kw: dict[str, Any] = {field: value}
    amount = kw.pop("amount_fen", 1_000)
    with pytest.raises(ValidationError) as info:
        request(w, amount_fen=amount, **kw)
    assert field in info.value.message_dict
    assert state() == before


def test_an_inactive_or_out_of_scope_payee_is_refused(personas: Personas) -> None:
    w = world(personas)
    before = state()
    w.payee.is_active = False
    w.payee.save()
    with pytest.raises(ValidationError) as info:
        request(w)
    assert "payee" in info.value.message_dict
    # 思明's administrator may not pay a 湖里 institution (and has no finance role at all).
    w.payee = make_payee(personas.tree.huli, name="湖里医院")
    with pytest.raises(PermissionDenied):
        request(w, actor=personas.siming_staff)
    assert state() == before


def test_only_finance_managers_of_the_funds_branch_may_request(personas: Personas) -> None:
    w = world(personas)
    before = state()
    for user in (
        personas.siming_staff,
        personas.huli_staff,
        personas.auditor,
        personas.leader,
        personas.public,
    ):
        with pytest.raises(PermissionDenied):
            request(w, actor=user)
    assert state() == before


def test_a_non_fund_account_cannot_be_paid_out_of(personas: Personas) -> None:
    w = world(personas)
    w.fund = Account.objects.get(code=f"RP-{w.project.branch_id}")
    with pytest.raises(ValidationError) as info:
        request(w)
    assert "fund" in info.value.message_dict
