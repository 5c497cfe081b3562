"""The demo's giving data is consistent: it went through the real payment and refund paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.models import Count, Q, Sum

from rendao.core.demo.loader import load_demo
from rendao.funds.accounting import accounts_recompute
from rendao.funds.demo import BOOKBAG_PARTNERS, PROJECTS
from rendao.funds.models import Donation, FundraisingProject, Receipt, Refund, RefundStatus
from rendao.funds.payments.sandbox.adapter import gateway_reset
from rendao.ledger.audit_registry import ledger_audit, rederiver_for
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db

# Enough for every kind of record (one order in 25 is abandoned; half of those paid late).
COUNT = 80
D = Donation.Status


@pytest.fixture
def demo() -> Iterator[None]:
    gateway_reset()
    load_demo(donations=COUNT)
    yield
    gateway_reset()


def test_the_four_projects_are_open_with_the_bookbags_six_co_initiators(demo: None) -> None:
    projects = {p.title: p for p in FundraisingProject.objects.all()}
    assert set(projects) == {spec.title for spec in PROJECTS}
    assert {p.status for p in projects.values()} == {FundraisingProject.Status.OPEN}
    bookbag = projects["红十字爱心小书包"]
    assert bookbag.restricted
    assert sorted(bookbag.co_initiators.values_list("organisation_name", flat=True)) == sorted(
        p.name for p in BOOKBAG_PARTNERS
    )
    assert all(co.assessment_note and co.role for co in bookbag.co_initiators.all())
    (appeal,) = [p for p in projects.values() if p.emergency]
    # Opened before it was filed, and filed within its deadline.
    assert appeal.filing_deadline is not None
    assert appeal.filed_on is not None
    assert appeal.opened_on is not None
    assert appeal.opened_on < appeal.filed_on <= appeal.filing_deadline
    assert [p.restricted for p in projects.values()].count(False) == 1


def test_journal_accounts_log_and_counters_agree_with_the_donations(demo: None) -> None:
    # The journal balances and every stored balance is its recomputation.
    result = accounts_recompute()
    assert result.balanced
    assert result.total_debit_fen > 0
    assert result.differences == []
    # Every leaf re-derives from its row: donations and refunds, and the fund-use
    # demo's disbursements and goods (issue 6), each kind by its app's re-deriver.
    report = ledger_audit()
    assert report.ok, report.mismatches
    assert report.checked == sum(
        Entry.objects.filter(kind=kind).count()
        for kind in EntryKind.values
        if rederiver_for(kind) is not None
    )
    logged = Entry.objects.filter(kind__in=["donation_received", "refund"]).count()
    paid = Donation.objects.filter(ledger_index__isnull=False).count()
    assert logged == paid + Refund.objects.filter(status=RefundStatus.SUCCEEDED).count()
    # Each project's progress counters are the sums of its counted donations.
    for project in FundraisingProject.objects.all():
        counted = Donation.objects.filter(
            project=project, refund_flagged=False, status__in=[D.PAID, D.PARTLY_REFUNDED]
        ).aggregate(n=Count("pk"), paid=Sum("amount_fen"), back=Sum("refunded_fen"))
        assert project.raised_fen == (counted["paid"] or 0) - (counted["back"] or 0), project.title
        assert project.donation_count == counted["n"], project.title


def test_the_donations_have_every_kind_the_pages_show_under_masked_names(demo: None) -> None:
    paid = Donation.objects.exclude(paid_at=None)
    assert paid.count() == COUNT + paid.filter(refund_flagged=True).count()
    assert paid.filter(anonymous=True, public_name="爱心人士").exists()
    assert paid.filter(receipt_wanted=False).exists()
    assert paid.filter(co_initiator__isnull=False).exists()
    assert paid.filter(user__isnull=False).exists()
    assert 1 <= paid.filter(refund_flagged=True).count() <= 5
    assert Donation.objects.filter(status=D.EXPIRED, paid_at=None).exists()
    assert Refund.objects.filter(status=RefundStatus.SUCCEEDED).count() >= 3
    assert Donation.objects.filter(status=D.REFUNDED).exists()
    assert Donation.objects.filter(status=D.PARTLY_REFUNDED).exists()
    assert Receipt.objects.filter(status=Receipt.Status.VOIDED).exists()
    # Everything paid in the past, spread over more than one month.
    first, last = (paid.order_by(f)[0].paid_at for f in ("paid_at", "-paid_at"))
    assert first is not None
    assert last is not None
    assert (last - first).days > 60
    # Named donors are masked in public; mobiles only from the demo range.
    named = Donation.objects.filter(anonymous=False)
    for donation in named:
        assert donation.public_name != donation.donor_name
        assert "*" in donation.public_name
        assert donation.donor_mobile == "" or donation.donor_mobile.startswith("+861380013")
    assert named.filter(~Q(donor_mobile_index=None)).exists()


def test_loading_again_changes_nothing(demo: None) -> None:
    before = (Donation.objects.count(), Entry.objects.count(), FundraisingProject.objects.count())
    result = load_demo(donations=COUNT)
    assert not result.changed
    assert (Donation.objects.count(), Entry.objects.count(), FundraisingProject.objects.count()) == before
