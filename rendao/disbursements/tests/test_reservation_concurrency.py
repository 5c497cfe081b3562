"""Requests never reserve more than a fund holds, even at once; a refund cannot take reserved money."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from rendao.conftest import Personas
from rendao.disbursements.models import Disbursement
from rendao.disbursements.tests.factories import approved, fund, record, request, world
from rendao.funds.accounting import accounts_recompute
from rendao.funds.models import Account, Donation
from rendao.funds.refunds import new_out_refund_no, refund_request


@pytest.mark.django_db
def test_sequential_requests_stop_at_the_balance(personas: Personas) -> None:
    w = world(personas)
    made = 0
    for _ in range(8):
        try:
            request(w, amount_fen=300_000)
            made += 1
        except ValidationError:
            pass
    assert made == 3
    assert fund(w).reserved_fen == 900_000


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_concurrent_requests_reserve_no_more_than_the_fund_holds(personas: Personas) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent transactions: the in-memory SQLite test database is one connection")
    w = world(personas)
    workers = 10
    barrier = threading.Barrier(workers)
    made: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            d = request(w, amount_fen=200_000)
            made.append(d.pk)
        except ValidationError as exc:
            refused.append(str(exc))
        except BaseException as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(made) == 5
    assert len(refused) == 5
    assert Disbursement.objects.count() == 5
    account = fund(w)
    assert (account.balance_fen, account.reserved_fen) == (1_000_000, 1_000_000)


@pytest.mark.django_db
def test_a_refund_cannot_take_money_reserved_for_an_approved_disbursement(personas: Personas) -> None:
    w = world(personas)
    donation = Donation.objects.get(project=w.project)
    d = approved(w, amount_fen=800_000)
    with pytest.raises(ValidationError, match="no longer holds enough"):
        refund_request(
            donation=donation,
            amount_fen=300_000,
            out_refund_no=new_out_refund_no(),
            reason="退款",
            actor=None,
        )
    assert (
        refund_request(
            donation=donation,
            amount_fen=200_000,
            out_refund_no=new_out_refund_no(),
            reason="退款",
            actor=None,
        ).amount_fen
        == 200_000
    )
    # The promised money is still there for the payment, and the books balance.
    record(w, d, amount_fen=800_000, reference="AFTER-REFUND")
    account = Account.objects.get(pk=w.fund.pk)
    assert (account.balance_fen, account.reserved_fen) == (0, 0)
    result = accounts_recompute()
    assert result.balanced
    assert not result.differences
