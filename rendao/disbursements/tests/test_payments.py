"""Recording bank transfers: partial payments, over-payment, duplicate references, the books."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.models import OutboxMessage
from rendao.disbursements import services
from rendao.disbursements.models import Disbursement, Payment, Status
from rendao.disbursements.tests.factories import World, approved, fund, record, request, world
from rendao.feedback.models import UseKind, UseReport
from rendao.funds.accounting import accounts_recompute
from rendao.funds.models import Account, JournalEntry
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db


def state() -> tuple[Any, ...]:
    return (
        list(Disbursement.objects.order_by("pk").values_list("status", "paid_fen")),
        Payment.objects.count(),
        JournalEntry.objects.count(),
        Entry.objects.count(),
        UseReport.objects.count(),
        list(Account.objects.order_by("pk").values_list("balance_fen", "reserved_fen")),
    )


def pay(w: World, d: Disbursement, amount_fen: int, reference: str, **kw: Any) -> Payment:
    values: dict[str, Any] = {"paid_on": timezone.localdate()}
    values.update(kw)
    return services.payment_record(
        actor=kw.pop("actor", w.personas.finance) if "actor" in kw else w.personas.finance,
        disbursement=d,
        bank_reference=reference,
        amount_fen=amount_fen,
        **{k: v for k, v in values.items() if k != "actor"},
    )


def test_partial_payments_move_money_out_of_the_reservation_and_the_fund(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=300_000)
    first = record(w, d, amount_fen=100_000, reference="BOC20261128001")
    assert d.status == Status.PARTLY_PAID
    assert d.paid_fen == 100_000
    assert (fund(w).balance_fen, fund(w).reserved_fen) == (900_000, 200_000)
    bank = Account.objects.get(code=f"BANK-{d.branch_id}")
    assert bank.kind == Account.Kind.BANK
    assert bank.balance_fen == -100_000
    lines = list(first.journal_entry.lines.values_list("account__code", "debit_fen", "credit_fen"))
    assert sorted(lines) == sorted([(w.fund.code, 100_000, 0), (bank.code, 0, 100_000)])
    record(w, d, amount_fen=200_000, reference="BOC20261128002")
    assert d.status == Status.PAID
    assert d.paid_fen == 300_000
    assert (fund(w).balance_fen, fund(w).reserved_fen) == (700_000, 0)
    recomputed = accounts_recompute()
    assert recomputed.balanced
    assert recomputed.differences == []
    assert fund(w).balance_fen >= 0


def test_a_payment_logs_a_disbursement_leaf_and_a_use_report(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    payment = record(w, d, amount_fen=100_000, reference="ICBC-77/1")
    leaf = json.loads(bytes(Entry.objects.get(index=payment.ledger_index).data))
    assert leaf["kind"] == "disbursement"
    assert {k: leaf[k] for k in leaf if k not in ("v", "kind", "at", "index")} == {
        "disbursement": d.number,
        "transfer": "ICBC-77/1",
        "amount_fen": 100_000,
        "paid_on": timezone.localdate().isoformat(),
        "payee": w.payee.name,
        "project": w.project.pk,
    }
    report = UseReport.objects.get(source="disbursement-payment:ICBC-77/1")
    assert (report.kind, report.amount_fen, report.recipient, report.ledger_index) == (
        UseKind.MONEY,
        100_000,
        w.payee.name,
        payment.ledger_index,
    )


def test_the_payees_representatives_get_the_sign_off_link(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    record(w, d, amount_fen=100_000, reference="R1")
    message = OutboxMessage.objects.get(kind="disbursement.paid")
    assert message.user_id == w.representative.pk
    # Delivered messages forget their recipient; the channel says e-mail was used.
    assert message.channel == "email"
    assert "/inst/disbursements/" in message.body
    assert "6217" not in message.body


def test_over_payment_is_refused_and_nothing_changes(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    record(w, d, amount_fen=60_000, reference="R1")
    before = state()
    with pytest.raises(ValidationError, match=r"At most 400.00 yuan"):
        pay(w, d, 40_001, "R2")
    assert state() == before


def test_a_repeated_reference_returns_the_same_payment_and_a_conflicting_one_is_refused(
    personas: Personas,
) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    other = approved(w, amount_fen=100_000)
    first = record(w, d, amount_fen=50_000, reference="DUP-1")
    before = state()
    assert pay(w, d, 50_000, "DUP-1").pk == first.pk
    assert state() == before
    with pytest.raises(ValidationError) as info:
        pay(w, d, 40_000, "DUP-1")
    assert "bank_reference" in info.value.message_dict
    with pytest.raises(ValidationError):
        pay(w, other, 50_000, "DUP-1")
    assert state() == before


def test_a_disbursement_in_approval_or_closed_cannot_be_paid(personas: Personas) -> None:
    w = world(personas)
    d = request(w)
    before = state()
    with pytest.raises(ValidationError, match="approved"):
        pay(w, d, 1_000, "R1")
    assert state() == before


@pytest.mark.parametrize(
    ("amount", "reference", "paid_on", "field"),
    [
        (0, "R1", None, "amount_fen"),
        (-1, "R1", None, "amount_fen"),
        (10.0, "R1", None, "amount_fen"),
        (1_000, "", None, "bank_reference"),
        (1_000, "has space", None, "bank_reference"),
        (1_000, "R" * 65, None, "bank_reference"),
        (1_000, "R1", "tomorrow", "paid_on"),
        (1_000, "R1", "not a date", "paid_on"),
    ],
)
def test_bad_payment_input_is_refused_on_its_field(
    personas: Personas, amount: Any, reference: str, paid_on: Any, field: str
) -> None:
    w = world(personas)
    d = approved(w)
    if paid_on == "tomorrow":
        paid_on = timezone.localdate() + timedelta(days=1)
    before = state()
    with pytest.raises(ValidationError) as info:
        pay(w, d, amount, reference, paid_on=paid_on or timezone.localdate())
    assert field in info.value.message_dict
    assert state() == before


def test_only_finance_managers_may_record_payments(personas: Personas) -> None:
    w = world(personas)
    d = approved(w)
    before = state()
    for user in (personas.siming_staff, personas.auditor, personas.huli_staff, w.representative):
        with pytest.raises(PermissionDenied):
            pay(w, d, 1_000, "R1", actor=user)
    assert state() == before


def test_cancelling_an_unpaid_disbursement_releases_everything(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=300_000)
    services.disbursement_cancel(actor=personas.finance, disbursement=d, reason="项目取消")
    d.refresh_from_db()
    assert d.status == Status.CANCELLED
    assert fund(w).reserved_fen == 0


def test_closing_short_releases_the_remainder_and_awaits_the_payees_word(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=300_000)
    record(w, d, amount_fen=100_000, reference="R1")
    services.disbursement_cancel(actor=personas.finance, disbursement=d, reason="供应商减价")
    d.refresh_from_db()
    assert (d.status, d.paid_fen) == (Status.PAID, 100_000)
    assert (fund(w).balance_fen, fund(w).reserved_fen) == (900_000, 0)
    with pytest.raises(ValidationError):
        services.disbursement_cancel(actor=personas.finance, disbursement=d, reason="again")
    with pytest.raises(ValidationError):
        pay(w, d, 1_000, "R2")


def test_cancel_needs_a_reason_and_a_finance_manager(personas: Personas) -> None:
    w = world(personas)
    d = approved(w)
    with pytest.raises(ValidationError):
        services.disbursement_cancel(actor=personas.finance, disbursement=d, reason=" ")
    with pytest.raises(PermissionDenied):
        services.disbursement_cancel(actor=personas.auditor, disbursement=d, reason="x")
    d.refresh_from_db()
    assert d.status == Status.APPROVED


def test_a_general_fund_disbursement_has_no_project_and_no_use_report(personas: Personas) -> None:
    w = world(personas)
    w.fund = Account.objects.get(code=f"GF-{w.project.branch_id}")
    # Give the general fund some money through the journal, as a transfer would.
    from django.db import transaction

    from rendao.funds.accounting import journal_post

    with transaction.atomic():
        journal_post(
            lines=[
                (
                    Account.objects.get(code=f"BANK-{w.project.branch_id}")
                    if Account.objects.filter(code=f"BANK-{w.project.branch_id}").exists()
                    else services._bank_account(w.project.branch, actor=None),
                    50_000,
                    0,
                ),
                (w.fund, 0, 50_000),
            ],
            reference="test:general",
            reason="unrestricted income",
        )
    d = approved(w, amount_fen=50_000)
    assert d.project_id is None
    record(w, d, amount_fen=50_000, reference="GEN-1")
    assert not UseReport.objects.filter(source="disbursement-payment:GEN-1").exists()
