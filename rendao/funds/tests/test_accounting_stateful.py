"""A Hypothesis state machine of donations, refunds, transfers and reversals.

After every step: no restricted fund below zero, Σ debits = Σ credits, and the
stored balances equal both a recomputation from the journal and an independent
model kept by the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from rendao.conftest import Tree
from rendao.core.models import Branch
from rendao.funds.accounting import Line, account_open, accounts_recompute, journal_post, journal_reverse
from rendao.funds.models import Account, JournalEntry, JournalLine

K = Account.Kind
amounts = st.integers(min_value=1, max_value=50_000)


class Books(RuleBasedStateMachine):
    branch: Branch
    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown, so examples
        # start from the same empty books inside the one test transaction.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        open_ = account_open
        self.channels = [
            open_(code=f"clearing-{i}", name=f"Channel {i}", kind=K.CHANNEL_CLEARING, branch=self.branch)
            for i in range(2)
        ]
        self.restricted = [
            open_(code=f"fund-r{i}", name=f"Project {i}", kind=K.RESTRICTED_FUND, branch=self.branch)
            for i in range(2)
        ]
        self.general = open_(code="fund-general", name="General", kind=K.GENERAL_FUND, branch=self.branch)
        self.refunds = open_(code="refunds", name="Refunds", kind=K.REFUNDS_PAYABLE, branch=self.branch)
        self.funds = [*self.restricted, self.general]
        self.model: dict[int, int] = {a.pk: 0 for a in [*self.channels, *self.funds, self.refunds]}
        self.reversed: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _post(
        self, lines: list[Line], reference: str, reverse: JournalEntry | None = None
    ) -> JournalEntry | None:
        """Post (or reverse) and check the outcome against the model."""
        predicted = dict(self.model)
        for account, debit, credit in lines:
            predicted[account.pk] += account.signed_change(debit_fen=debit, credit_fen=credit)
        overdrawn = any(predicted[a.pk] < 0 for a in self.restricted)
        counts = (JournalEntry.objects.count(), JournalLine.objects.count())
        try:
            if reverse is not None:
                entry = journal_reverse(entry=reverse, reason="correction", actor=None)
            else:
                entry = journal_post(lines=lines, reference=reference, reason=reference.split(":")[0])
        except ValidationError:
            assert overdrawn or (reverse is not None and reverse.pk in self.reversed)
            assert (JournalEntry.objects.count(), JournalLine.objects.count()) == counts
            return None
        assert not overdrawn
        assert reverse is None or reverse.pk not in self.reversed
        self.model = predicted
        return entry

    @rule(target=entries, channel=st.integers(0, 1), fund=st.integers(0, 2), fen=amounts)
    def donation(self, channel: int, fund: int, fen: int) -> Any:
        entry = self._post([(self.channels[channel], fen, 0), (self.funds[fund], 0, fen)], "donation:x")
        assert entry is not None
        return entry

    @rule(fund=st.integers(0, 1), fen=amounts)
    def refund(self, fund: int, fen: int) -> None:
        self._post([(self.restricted[fund], fen, 0), (self.refunds, 0, fen)], "refund:x")

    @rule(source=st.integers(0, 2), dest=st.integers(0, 2), fen=amounts)
    def transfer(self, source: int, dest: int, fen: int) -> None:
        self._post([(self.funds[source], fen, 0), (self.funds[dest], 0, fen)], "transfer:x")

    @rule(target=entries, entry=entries)
    def reversal(self, entry: JournalEntry) -> Any:
        original = [
            (line.account, line.credit_fen, line.debit_fen) for line in entry.lines.select_related("account")
        ]
        reversal = self._post(original, entry.reference, reverse=entry)
        if reversal is None:
            return entry
        self.reversed.add(entry.pk)
        return reversal

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


@pytest.mark.django_db
def test_random_postings_keep_the_books_consistent(tree: Tree) -> None:
    Books.branch = tree.city
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=50,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
