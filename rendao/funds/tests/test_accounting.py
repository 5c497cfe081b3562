"""Double-entry postings: balanced entries, refusals, reversals, append-only rows, recompute."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, transaction

from rendao.conftest import Personas
from rendao.core.models import AuditEvent
from rendao.funds.accounting import account_open, journal_post, journal_reverse
from rendao.funds.models import Account, JournalEntry, JournalLine

pytestmark = pytest.mark.django_db


@dataclass
class Books:
    clearing: Account
    bank: Account
    school_bags: Account  # restricted fund
    general: Account
    refunds: Account


@pytest.fixture
def books(personas: Personas) -> Books:
    city = personas.tree.city
    K = Account.Kind
    with transaction.atomic():
        return Books(
            clearing=account_open(
                code="clearing-sandbox", name="Sandbox", kind=K.CHANNEL_CLEARING, branch=city
            ),
            bank=account_open(code="bank-main", name="Main bank", kind=K.BANK, branch=city),
            school_bags=account_open(
                code="fund-bags", name="School bags", kind=K.RESTRICTED_FUND, branch=city
            ),
            general=account_open(code="fund-general", name="General", kind=K.GENERAL_FUND, branch=city),
            refunds=account_open(code="refunds", name="Refunds payable", kind=K.REFUNDS_PAYABLE, branch=city),
        )


def donate(books: Books, fen: int, *, reference: str = "donation:1") -> JournalEntry:
    with transaction.atomic():
        return journal_post(
            lines=[(books.clearing, fen, 0), (books.school_bags, 0, fen)],
            reference=reference,
            reason="donation",
        )


def balances() -> dict[str, int]:
    return dict(Account.objects.values_list("code", "balance_fen"))


def snapshot() -> tuple[int, int, int, dict[str, int]]:
    return JournalEntry.objects.count(), JournalLine.objects.count(), AuditEvent.objects.count(), balances()


def test_a_balanced_donation_updates_both_balances_on_their_normal_side(books: Books) -> None:
    entry = donate(books, 10_000)

    assert balances()["clearing-sandbox"] == 10_000
    assert balances()["fund-bags"] == 10_000
    assert [(line.debit_fen, line.credit_fen) for line in entry.lines.all()] == [(10_000, 0), (0, 10_000)]
    assert AuditEvent.objects.filter(action="funds.journal_post", object_id=str(entry.pk)).count() == 1


def test_a_posting_with_more_than_two_lines_is_accepted_when_it_balances(
    books: Books, personas: Personas
) -> None:
    with transaction.atomic():
        entry = journal_post(
            lines=[(books.clearing, 300, 0), (books.school_bags, 0, 200), (books.general, 0, 100)],
            reference="donation:2",
            reason="split donation",
            actor=personas.finance,
        )
    assert entry.created_by == personas.finance
    assert balances()["fund-general"] == 100


def test_posting_outside_a_transaction_is_refused(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    # The test itself runs in a transaction; pretend the caller opened none.
    monkeypatch.setattr(transaction.get_connection(), "in_atomic_block", False)
    with pytest.raises(RuntimeError):
        journal_post(lines=[(books.clearing, 1, 0), (books.general, 0, 1)], reference="x:1", reason="r")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (lambda b: [(b.clearing, 100, 0), (b.school_bags, 0, 99)], "do not balance"),
        (lambda b: [(b.clearing, 100, 0)], "at least two lines"),
        (lambda b: [(b.clearing, 1.5, 0), (b.school_bags, 0, 1.5)], "whole fen"),
        (lambda b: [(b.clearing, Decimal(1), 0), (b.school_bags, 0, Decimal(1))], "whole fen"),
        (lambda b: [(b.clearing, True, 0), (b.school_bags, 0, True)], "whole fen"),
        (lambda b: [(b.clearing, 0, 0), (b.school_bags, 0, 0)], "exactly one"),
        (lambda b: [(b.clearing, 5, 5), (b.school_bags, 5, 5)], "exactly one"),
        (lambda b: [(b.clearing, -5, 0), (b.school_bags, 0, -5)], "cannot be negative"),
    ],
)
def test_malformed_postings_are_refused_with_a_clear_error_and_nothing_written(
    books: Books, lines: Any, message: str
) -> None:
    donate(books, 1_000)
    before = snapshot()
    with pytest.raises(ValidationError, match=message), transaction.atomic():
        journal_post(lines=lines(books), reference="bad:1", reason="bad")
    assert snapshot() == before


def test_a_restricted_fund_cannot_go_below_zero_and_nothing_is_written(books: Books) -> None:
    donate(books, 500)
    before = snapshot()
    with pytest.raises(ValidationError, match="would go below zero"), transaction.atomic():
        journal_post(
            lines=[(books.school_bags, 501, 0), (books.refunds, 0, 501)],
            reference="refund:1",
            reason="refund",
        )
    assert snapshot() == before


def test_a_restricted_fund_may_be_spent_down_to_exactly_zero(books: Books) -> None:
    donate(books, 500)
    with transaction.atomic():
        journal_post(
            lines=[(books.school_bags, 500, 0), (books.refunds, 0, 500)],
            reference="refund:1",
            reason="refund",
        )
    assert balances()["fund-bags"] == 0


def test_the_database_refuses_a_negative_restricted_balance_even_without_the_service(books: Books) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=books.school_bags.pk).update(balance_fen=-1)


def test_a_closed_account_refuses_postings(books: Books) -> None:
    Account.objects.filter(pk=books.general.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="closed"), transaction.atomic():
        journal_post(lines=[(books.clearing, 1, 0), (books.general, 0, 1)], reference="x:1", reason="r")
    assert JournalEntry.objects.count() == 0


def test_a_reversal_mirrors_the_entry_and_restores_the_balances(books: Books, personas: Personas) -> None:
    entry = donate(books, 2_000)
    with transaction.atomic():
        reversal = journal_reverse(entry=entry, reason="posted twice", actor=personas.finance)

    assert reversal.reverses == entry
    assert [(line.account_id, line.debit_fen, line.credit_fen) for line in reversal.lines.all()] == [
        (books.clearing.pk, 0, 2_000),
        (books.school_bags.pk, 2_000, 0),
    ]
    assert balances()["clearing-sandbox"] == 0
    assert balances()["fund-bags"] == 0
    assert AuditEvent.objects.filter(action="funds.journal_reverse", object_id=str(reversal.pk)).count() == 1


def test_an_entry_cannot_be_reversed_twice(books: Books) -> None:
    entry = donate(books, 2_000)
    donate(books, 5_000, reference="donation:2")
    with transaction.atomic():
        journal_reverse(entry=entry, reason="first", actor=None)
    before = snapshot()
    with pytest.raises(ValidationError, match="already been reversed"), transaction.atomic():
        journal_reverse(entry=entry, reason="second", actor=None)
    assert snapshot() == before


def test_a_reversal_that_would_overdraw_a_restricted_fund_is_refused(books: Books) -> None:
    entry = donate(books, 2_000)
    with transaction.atomic():
        journal_post(
            lines=[(books.school_bags, 1_500, 0), (books.refunds, 0, 1_500)],
            reference="refund:1",
            reason="refund",
        )
    before = snapshot()
    with pytest.raises(ValidationError, match="would go below zero"), transaction.atomic():
        journal_reverse(entry=entry, reason="undo", actor=None)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("model", "change"), [(JournalEntry, {"reason": "edited"}), (JournalLine, {"debit_fen": 1})]
)
def test_the_database_refuses_to_update_or_delete_journal_rows(books: Books, model: Any, change: Any) -> None:
    donate(books, 700)
    row = model.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.filter(pk=row.pk).delete()
    assert model.objects.filter(pk=row.pk).exists()


def test_recompute_passes_on_untouched_books(books: Books) -> None:
    donate(books, 700)
    out = StringIO()
    call_command("accounts_recompute", stdout=out)
    assert "accounts OK: debits = credits = 700 fen" in out.getvalue()


def test_recompute_finds_a_tampered_balance_and_fixes_it_only_when_asked(books: Books) -> None:
    donate(books, 700)
    Account.objects.filter(pk=books.school_bags.pk).update(balance_fen=99_999)

    out = StringIO()
    with pytest.raises(CommandError, match="1 account balance"):
        call_command("accounts_recompute", stdout=out)
    assert f"account {books.school_bags.pk} (fund-bags): stored 99999 fen, journal 700 fen" in out.getvalue()
    assert balances()["fund-bags"] == 99_999

    call_command("accounts_recompute", "--fix", stdout=StringIO())
    assert balances()["fund-bags"] == 700
    fix = AuditEvent.objects.get(action="funds.balance_fix")
    assert fix.before == {"balance_fen": 99_999}
    assert fix.after == {"balance_fen": 700}
    call_command("accounts_recompute", stdout=StringIO())
