"""`ledger_audit` re-derives donation and refund leaves from the funds tables."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from rendao.conftest import Personas
from rendao.funds.models import Donation, FundraisingProject, Refund
from rendao.funds.refunds import refund_request
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.ledger.audit_registry import ledger_audit
from rendao.ledger.services import ledger_append

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.city, personas.finance)


def paid(project: FundraisingProject, amount_fen: int = 10_000) -> Donation:
    donation = donate(project, amount_fen=amount_fen)
    pay(donation)
    donation.refresh_from_db()
    return donation


def mismatches() -> list[str]:
    return [str(m) for m in ledger_audit().mismatches]


def test_paid_donations_audit_clean(project: FundraisingProject) -> None:
    paid(project)
    paid(project, amount_fen=2_500)
    report = ledger_audit()
    assert report.ok
    assert report.checked == 2
    assert not report.not_checked


def test_a_changed_amount_is_reported_by_entry_and_key(project: FundraisingProject) -> None:
    donation = paid(project)
    Donation.objects.filter(pk=donation.pk).update(amount_fen=1_000)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 entries re-derived, 1 mismatches"):
        call_command("ledger_audit", stdout=out)
    assert out.getvalue().splitlines()[0] == (
        f"MISMATCH entry {donation.ledger_index} (donation_received): business state differs in: amount_fen"
    )


def test_a_changed_payment_time_or_late_flag_is_reported(project: FundraisingProject) -> None:
    first = paid(project)
    second = paid(project)
    assert first.paid_at is not None
    Donation.objects.filter(pk=first.pk).update(paid_at=first.paid_at - timedelta(days=1))
    Donation.objects.filter(pk=second.pk).update(refund_flagged=True)
    assert mismatches() == [
        f"entry {first.ledger_index} (donation_received): business state differs in: at",
        f"entry {second.ledger_index} (donation_received): business state differs in: held_for_refund",
    ]


def test_a_leaf_for_an_order_we_do_not_have_is_reported_gone(project: FundraisingProject) -> None:
    # Donations cannot be deleted (PROTECT, and the journal is append-only), so
    # a missing row is a leaf naming an order the table never had.
    paid(project)
    with transaction.atomic():
        leaf = ledger_append(
            kind="donation_received", payload={"donation": "RD20260101FFFFFFFFFFFFFFFF", "amount_fen": 100}
        )
        odd = ledger_append(kind="donation_received", payload={"amount_fen": 100})
    assert mismatches() == [
        f"entry {leaf.index} (donation_received): the business row no longer exists",
        f"entry {odd.index} (donation_received): the business row no longer exists",
    ]


def test_refunds_audit_clean_and_a_changed_refund_amount_is_reported(project: FundraisingProject) -> None:
    donation = paid(project)
    refund = refund_request(
        donation=donation, amount_fen=4_000, out_refund_no="RF-AUDIT-1", reason="typo", actor=None
    )
    assert refund.status == Refund.Status.SUCCEEDED
    report = ledger_audit()
    assert report.ok
    assert report.checked == 2

    Refund.objects.filter(pk=refund.pk).update(amount_fen=3_000)
    assert mismatches() == [f"entry {refund.ledger_index} (refund): business state differs in: amount_fen"]


def test_a_refund_leaf_without_its_refund_row_is_reported_gone(project: FundraisingProject) -> None:
    donation = paid(project)
    with transaction.atomic():
        leaf = ledger_append(
            kind="refund", payload={"refund": "RF-NEVER", "donation": donation.out_trade_no, "amount_fen": 1}
        )
    assert mismatches() == [f"entry {leaf.index} (refund): the business row no longer exists"]
