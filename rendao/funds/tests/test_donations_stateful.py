"""A Hypothesis state machine of donations, refunds and reversals, through the services.

Donations are created and paid through donation_create / donation_checkout / the
signed sandbox notification (some arrive late, for an order already expired,
and are held for refund), sometimes delivered twice; refunds go through
refund_request; money leaves a fund by a disbursement; any entry may be reversed.
After every step: no restricted fund below zero, Σ debits = Σ credits, every
stored balance equals the recomputation from the journal and the model kept by
the test, and each project's raised_fen is Σ paid − Σ refunded over its donations
not held for refund.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from rendao.conftest import Tree
from rendao.core.models import Branch, User
from rendao.funds.accounting import account_open, accounts_recompute, journal_post, journal_reverse
from rendao.funds.daily import daily_consistent
from rendao.funds.donations import clearing_code, fund_code, notification_receive, refunds_payable_code
from rendao.funds.models import (
    Account,
    Donation,
    DonationStatus,
    FundraisingProject,
    JournalEntry,
    JournalLine,
    Refund,
    RefundStatus,
)
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.refunds import refund_request
from rendao.funds.tests.factories import donate, open_project

K = Account.Kind
amounts = st.integers(min_value=100, max_value=200_000)


class Giving(RuleBasedStateMachine):
    branch: Branch
    creator: User
    donations = Bundle("donations")
    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown, so examples
        # start from the same empty books inside the one test transaction.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.projects = [
            open_project(self.branch, self.creator, restricted=True),
            open_project(self.branch, self.creator, restricted=False, title="红十字博爱基金"),
        ]
        self.expense = account_open(
            code=f"EXP-{self.branch.pk}",
            name="Project expenditure",
            kind=K.PROJECT_EXPENSE,
            branch=self.branch,
        )
        self.model: dict[int, int] = dict(Account.objects.values_list("pk", "balance_fen"))
        self.reversed: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _move(self, code: str, *, debit: int = 0, credit: int = 0) -> None:
        account = Account.objects.get(code=code)
        self.model[account.pk] += account.signed_change(debit_fen=debit, credit_fen=credit)

    # --- donations ---------------------------------------------------------------------------

    @rule(target=donations, project=st.integers(0, 1), fen=amounts, late=st.booleans(), twice=st.booleans())
    def donation(self, project: int, fen: int, late: bool, twice: bool) -> Any:
        donation = donate(self.projects[project], amount_fen=fen)
        headers, body = SandboxChannel().pay(donation.out_trade_no)
        if late:
            # Paid at the channel after our sweeper had expired the order.
            Donation.objects.filter(pk=donation.pk).update(status=DonationStatus.EXPIRED)
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert notification_receive("sandbox", headers, body).status == 200
            if twice:
                # A second delivery of the same payment, freshly signed: changes nothing.
                assert (
                    notification_receive("sandbox", *SandboxChannel().pay(donation.out_trade_no)).status
                    == 200
                )
        donation.refresh_from_db()
        assert donation.status == DonationStatus.PAID
        assert donation.refund_flagged == late
        credited = refunds_payable_code(self.branch.pk) if late else fund_code(donation.project)
        self._move(clearing_code("sandbox", self.branch.pk), debit=fen)
        self._move(credited, credit=fen)
        return donation

    # --- refunds -----------------------------------------------------------------------------

    @rule(donation=donations, share=st.floats(0.01, 1.2))
    def refund(self, donation: Donation, share: float) -> None:
        donation.refresh_from_db()
        left = donation.amount_fen - donation.refunded_fen
        fen = max(1, int(donation.amount_fen * share))
        debit_code = (
            refunds_payable_code(self.branch.pk) if donation.refund_flagged else fund_code(donation.project)
        )
        debit_account = Account.objects.get(code=debit_code)
        fund_short = debit_account.kind == K.RESTRICTED_FUND and debit_account.balance_fen < fen
        counts = (JournalEntry.objects.count(), Refund.objects.count())
        try:
            refund = refund_request(
                donation=donation,
                amount_fen=fen,
                # Unique across examples: the sandbox's books outlive each rolled-back example.
                out_refund_no=f"RF{secrets.token_hex(8)}",
                reason="donor asked",
                actor=None,
            )
        except ValidationError:
            assert fen > left or fund_short
            assert (JournalEntry.objects.count(), Refund.objects.count()) == counts
            return
        assert fen <= left
        assert not fund_short
        assert refund.status == RefundStatus.SUCCEEDED
        self._move(debit_code, debit=fen)
        self._move(clearing_code("sandbox", self.branch.pk), credit=fen)
        donation.refresh_from_db()
        assert donation.refunded_fen == donation.amount_fen - left + fen
        expected = DonationStatus.REFUNDED if fen == left else DonationStatus.PARTLY_REFUNDED
        assert donation.status == expected

    # --- money leaving a fund, and corrections ------------------------------------------------

    @rule(target=entries, project=st.integers(0, 1), fen=amounts)
    def disbursement(self, project: int, fen: int) -> Any:
        fund = Account.objects.get(code=fund_code(self.projects[project]))
        predicted = self.model[fund.pk] - fen
        try:
            with transaction.atomic():
                entry = journal_post(
                    lines=[(fund, fen, 0), (self.expense, 0, fen)],
                    reference="disbursement:x",
                    reason="disbursement",
                )
        except ValidationError:
            assert fund.kind == K.RESTRICTED_FUND
            assert predicted < 0
            return None
        self._move(fund.code, debit=fen)
        self._move(self.expense.code, credit=fen)
        return entry

    @precondition(lambda self: JournalEntry.objects.filter(reverses__isnull=True).exists())
    @rule(pick=st.integers(0, 10_000))
    def reversal(self, pick: int) -> None:
        candidates = list(JournalEntry.objects.filter(reverses__isnull=True).order_by("pk"))
        entry = candidates[pick % len(candidates)]
        lines = list(entry.lines.select_related("account"))
        predicted = dict(self.model)
        for line in lines:
            predicted[line.account_id] += line.account.signed_change(
                debit_fen=line.credit_fen, credit_fen=line.debit_fen
            )
        overdrawn = any(
            predicted[line.account_id] < 0 for line in lines if line.account.kind == K.RESTRICTED_FUND
        )
        try:
            with transaction.atomic():
                journal_reverse(entry=entry, reason="correction", actor=None)
        except ValidationError:
            assert overdrawn or entry.pk in self.reversed
            return
        assert not overdrawn
        assert entry.pk not in self.reversed
        self.reversed.add(entry.pk)
        self.model = predicted

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def restricted_funds_are_never_negative(self) -> None:
        assert not Account.objects.filter(kind=K.RESTRICTED_FUND, balance_fen__lt=0).exists()

    @invariant()
    def debits_equal_credits(self) -> None:
        totals = JournalLine.objects.aggregate(d=Sum("debit_fen"), c=Sum("credit_fen"))
        assert totals["d"] == totals["c"]

    @invariant()
    def stored_balances_equal_the_recomputation_and_the_model(self) -> None:
        result = accounts_recompute()
        assert result.differences == []
        assert result.balanced
        assert dict(Account.objects.values_list("pk", "balance_fen")) == self.model

    @invariant()
    def raised_is_paid_minus_refunded_for_donations_not_held_for_refund(self) -> None:
        for project in FundraisingProject.objects.filter(pk__in=[p.pk for p in self.projects]):
            counted = Donation.objects.filter(
                project=project,
                refund_flagged=False,
                status__in=[DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED, DonationStatus.REFUNDED],
            ).aggregate(paid=Sum("amount_fen"), refunded=Sum("refunded_fen"))
            assert project.raised_fen == (counted["paid"] or 0) - (counted["refunded"] or 0)

    @invariant()
    def daily_totals_equal_their_recomputation_and_the_project_counters(self) -> None:
        for project in self.projects:
            assert daily_consistent(project)


@pytest.mark.django_db
def test_random_donations_refunds_and_reversals_keep_the_books_and_the_progress_consistent(
    tree: Tree,
) -> None:
    Giving.branch = tree.city
    Giving.creator = User.objects.create_user("creator", display_name="creator")
    run_state_machine_as_test(
        Giving,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
