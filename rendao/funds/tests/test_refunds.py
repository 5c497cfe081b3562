"""Refunds: exactly once, never more than was paid, within the channel's time, reversing the journal."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from rendao.conftest import Personas
from rendao.core.models import Branch, User
from rendao.funds.accounting import accounts_recompute, journal_post
from rendao.funds.models import (
    Account,
    Donation,
    FundraisingProject,
    JournalEntry,
    Receipt,
    Refund,
)
from rendao.funds.payments import (
    PermanentChannelError,
    RefundResult,
    RefundState,
    TransientChannelError,
)
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.refunds import (
    late_payments_refund,
    late_refund_no,
    new_out_refund_no,
    refund_request,
    refunds_sweep,
)
from rendao.funds.tests.factories import account, donate, open_project, pay, sandbox_notification
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
S = Refund.Status


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance)


def paid(project: FundraisingProject, amount_fen: int = 10_000) -> Donation:
    donation = donate(project, amount_fen=amount_fen)
    pay(donation)
    donation.refresh_from_db()
    return donation


def refund(donation: Donation, amount_fen: int, *, actor: User | None = None, **kw: Any) -> Refund:
    values: dict[str, Any] = {"out_refund_no": new_out_refund_no(), "reason": "捐赠人要求退款"}
    values.update(kw)
    return refund_request(donation=donation, amount_fen=amount_fen, actor=actor, **values)


def state() -> tuple[Any, ...]:
    """Everything a refund could change."""
    return (
        list(Donation.objects.order_by("pk").values_list("status", "refunded_fen")),
        list(Refund.objects.order_by("pk").values_list("out_refund_no", "status", "amount_fen")),
        JournalEntry.objects.count(),
        Entry.objects.count(),
        list(FundraisingProject.objects.order_by("pk").values_list("raised_fen", "donation_count")),
        list(Receipt.objects.order_by("pk").values_list("status", flat=True)),
        list(Account.objects.order_by("pk").values_list("balance_fen", flat=True)),
    )


@pytest.fixture
def channel_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refund numbers the sandbox channel is asked to refund (it still refunds)."""
    calls: list[str] = []
    lock = threading.Lock()
    original = SandboxChannel.refund

    def counted(self: SandboxChannel, **kwargs: Any) -> RefundResult:
        with lock:
            calls.append(kwargs["out_refund_no"])
        return original(self, **kwargs)

    monkeypatch.setattr(SandboxChannel, "refund", counted)
    return calls


def leaf(index: int | None) -> dict[str, Any]:
    assert index is not None
    data: dict[str, Any] = json.loads(bytes(Entry.objects.get(index=index).data))
    return data


# --- the money ------------------------------------------------------------------------------


def test_a_partial_then_a_full_refund_reverse_the_journal_counters_and_void_the_receipt(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project, 10_000)
    receipt = Receipt.objects.get(donation=donation)
    fund, clearing = f"RF-{project.pk}", f"CLR-sandbox-{project.branch_id}"

    first = refund(donation, 3_000, actor=personas.finance)
    assert first.status == S.SUCCEEDED
    assert first.requested_by == personas.finance
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_fen) == (Donation.Status.PARTLY_REFUNDED, 3_000)
    assert (account(fund).balance_fen, account(clearing).balance_fen) == (7_000, 7_000)
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (7_000, 1)
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.ISSUED
    assert first.journal_entry is not None
    lines = sorted(first.journal_entry.lines.values_list("account__code", "debit_fen", "credit_fen"))
    assert lines == sorted([(fund, 3_000, 0), (clearing, 0, 3_000)])
    first_leaf = leaf(first.ledger_index)
    assert first_leaf["kind"] == "refund"
    assert (first_leaf["refund"], first_leaf["donation"], first_leaf["amount_fen"]) == (
        first.out_refund_no,
        donation.out_trade_no,
        3_000,
    )
    assert first_leaf["donor"] == donation.commitment
    assert "张" not in json.dumps(first_leaf, ensure_ascii=False)

    second = refund(donation, 7_000, actor=personas.finance)
    assert second.status == S.SUCCEEDED
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_fen) == (Donation.Status.REFUNDED, 10_000)
    assert account(fund).balance_fen == 0
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (0, 0)
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.VOIDED
    assert second.out_refund_no in receipt.void_reason
    result = accounts_recompute()
    assert result.balanced
    assert not result.differences


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (10_001, "At most 100.00 yuan"),
        (0, "more than zero"),
        (-100, "more than zero"),
        (12.5, "whole number of fen"),
        ("100", "whole number of fen"),
    ],
)
def test_a_refund_over_what_is_left_or_of_a_bad_amount_is_refused_and_changes_nothing(
    project: FundraisingProject, amount: Any, message: str
) -> None:
    donation = paid(project, 10_000)
    before = state()
    with pytest.raises(ValidationError) as caught:
        refund(donation, amount)
    assert message in " ".join(caught.value.message_dict["amount_fen"])
    assert state() == before


def test_refunds_asked_for_but_not_yet_done_count_against_what_is_left(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    donation = paid(project, 10_000)

    def busy(self: SandboxChannel, **kwargs: Any) -> RefundResult:
        raise TransientChannelError("sandbox: busy")

    monkeypatch.setattr(SandboxChannel, "refund", busy)
    assert refund(donation, 6_000).status == S.REQUESTED
    with pytest.raises(ValidationError, match=r"At most 40\.00 yuan"):
        refund(donation, 5_000)


def test_an_unpaid_donation_cannot_be_refunded(project: FundraisingProject) -> None:
    donation = donate(project)
    before = state()
    with pytest.raises(ValidationError, match="Only a paid donation"):
        refund(donation, 1_000)
    assert state() == before


def test_a_refund_past_the_channels_window_is_refused(project: FundraisingProject) -> None:
    donation = paid(project)
    assert donation.paid_at is not None
    before = state()
    late = donation.paid_at + timedelta(days=SandboxChannel.REFUND_WINDOW_DAYS, seconds=1)
    with pytest.raises(ValidationError, match="within 365 days of payment"):
        refund(donation, 1_000, now=late)
    assert state() == before
    # The last moment of the window is still inside it.
    on_time = donation.paid_at + timedelta(days=SandboxChannel.REFUND_WINDOW_DAYS)
    assert refund(donation, 1_000, now=on_time).status == S.SUCCEEDED


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"out_refund_no": ""}, "out_refund_no", "1 to 64 characters"),
        ({"out_refund_no": "R" * 65}, "out_refund_no", "1 to 64 characters"),
        ({"out_refund_no": "退款001"}, "out_refund_no", "1 to 64 characters"),
        ({"out_refund_no": "RF 001"}, "out_refund_no", "1 to 64 characters"),
        ({"out_refund_no": "RF/001"}, "out_refund_no", "1 to 64 characters"),
        ({"reason": "   "}, "reason", "Say why"),
        ({"reason": "因" * 201}, "reason", "at most 200"),
    ],
)
def test_bad_refund_numbers_and_reasons_are_refused_and_change_nothing(
    project: FundraisingProject, fields: dict[str, Any], field: str, message: str
) -> None:
    donation = paid(project)
    before = state()
    with pytest.raises(ValidationError) as caught:
        refund(donation, 1_000, **fields)
    assert message in " ".join(caught.value.message_dict[field])
    assert state() == before


def test_every_character_wechat_allows_in_a_refund_number_is_accepted(project: FundraisingProject) -> None:
    donation = paid(project)
    assert refund(donation, 100, out_refund_no="Az09_-|*@").status == S.SUCCEEDED
    assert refund(donation, 100, out_refund_no="R" * 64).status == S.SUCCEEDED


def test_a_restricted_fund_already_spent_refuses_the_refund_cleanly(
    project: FundraisingProject, personas: Personas, channel_calls: list[str]
) -> None:
    donation = paid(project, 10_000)
    # 8,000 fen moved out of the fund (to the branch's general fund, as an allocation would).
    with transaction.atomic():
        journal_post(
            lines=[(account(f"RF-{project.pk}"), 8_000, 0), (account(f"GF-{project.branch_id}"), 0, 8_000)],
            reference="allocation:test",
            reason="allocated elsewhere",
            actor=personas.finance,
        )
    before = state()
    with pytest.raises(ValidationError, match="fund no longer holds enough"):
        refund(donation, 3_000)
    assert state() == before
    assert channel_calls == []
    # What is still in the fund can be refunded.
    assert refund(donation, 2_000).status == S.SUCCEEDED


def test_money_reserved_for_a_disbursement_cannot_be_refunded(
    project: FundraisingProject, personas: Personas, channel_calls: list[str]
) -> None:
    donation = paid(project, 10_000)
    # 8,000 fen promised to an approved disbursement (issue 6): still in the fund, not refundable.
    Account.objects.filter(code=f"RF-{project.pk}").update(reserved_fen=8_000)
    before = state()
    with pytest.raises(ValidationError, match="fund no longer holds enough"):
        refund(donation, 3_000)
    assert state() == before
    assert channel_calls == []
    # Nor can the journal take it below the reservation by another way.
    with pytest.raises(ValidationError, match="reserved"), transaction.atomic():
        journal_post(
            lines=[(account(f"RF-{project.pk}"), 3_000, 0), (account(f"GF-{project.branch_id}"), 0, 3_000)],
            reference="allocation:test",
            reason="allocated elsewhere",
            actor=personas.finance,
        )
    assert refund(donation, 2_000).status == S.SUCCEEDED


def test_only_finance_managers_of_the_donations_branch_may_refund(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project)
    before = state()
    for user in (personas.huli_staff, personas.auditor, personas.siming_staff, personas.outsider):
        with pytest.raises(PermissionDenied):
            refund(donation, 1_000, actor=user)
    assert state() == before
    elsewhere = open_project(personas.tree.huli, personas.finance, title="湖里项目")
    huli_donation = paid(elsewhere)
    from rendao.conftest import make_staff
    from rendao.core.models import Role

    siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    with pytest.raises(PermissionDenied):
        refund(huli_donation, 1_000, actor=siming_finance)
    assert refund(donation, 1_000, actor=siming_finance).status == S.SUCCEEDED


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_refund_number_gives_back_the_same_refund_and_another_amount_is_refused(
    project: FundraisingProject, channel_calls: list[str]
) -> None:
    donation = paid(project)
    other = paid(project)
    first = refund(donation, 2_000, out_refund_no="RF-same-1")
    before = state()
    again = refund(donation, 2_000, out_refund_no="RF-same-1")
    assert again.pk == first.pk
    assert state() == before
    assert channel_calls == ["RF-same-1"]
    with pytest.raises(ValidationError, match="already used for another refund"):
        refund(donation, 2_500, out_refund_no="RF-same-1")
    with pytest.raises(ValidationError, match="already used for another refund"):
        refund(other, 2_000, out_refund_no="RF-same-1")
    assert state() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_concurrent_identical_requests_make_exactly_one_refund(channel_calls: list[str]) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent transactions: the in-memory SQLite test database is one connection")
    root = Branch.objects.add_root(
        instance=Branch(name="并发测试红十字会", kind=Branch.Kind.CITY, division_code="350200000000")
    )
    creator = User.objects.create_user("concurrency", password="correct horse battery")
    project = open_project(root, creator)
    donation = donate(project, amount_fen=10_000)
    headers, body = sandbox_notification(donation)
    from rendao.funds.donations import notification_receive

    assert notification_receive("sandbox", headers, body).status == 200
    donation.refresh_from_db()
    entries_before = JournalEntry.objects.count()

    workers = 10
    barrier = threading.Barrier(workers)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            mine = Donation.objects.get(pk=donation.pk)
            made = refund_request(
                donation=mine,
                amount_fen=4_000,
                out_refund_no="RF-CONCURRENT-1",
                reason="重复提交",
                actor=None,
            )
            results.append(made.pk)
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
    assert len(results) == workers
    assert Refund.objects.count() == 1
    assert set(results) == {Refund.objects.get().pk}
    assert channel_calls == ["RF-CONCURRENT-1"]
    assert JournalEntry.objects.count() == entries_before + 1
    assert Refund.objects.get().status == S.SUCCEEDED
    donation.refresh_from_db()
    assert donation.refunded_fen == 4_000


# --- what the channel says ------------------------------------------------------------------


def test_a_refund_the_channel_is_still_processing_is_finished_by_the_sweeper(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    donation = paid(project)
    original = SandboxChannel.refund

    def processing(self: SandboxChannel, **kwargs: Any) -> RefundResult:
        original(self, **kwargs)  # the channel has it; the money is on its way
        return RefundResult(kwargs["out_refund_no"], RefundState.PROCESSING, "SBXR-pending", 0)

    monkeypatch.setattr(SandboxChannel, "refund", processing)
    made = refund(donation, 10_000)
    assert made.status == S.PROCESSING
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_fen) == (Donation.Status.PAID, 0)
    assert account(f"RF-{project.pk}").balance_fen == 10_000
    # Not yet a minute old: the sweeper leaves it to the request.
    assert refunds_sweep().asked == 0
    monkeypatch.setattr(SandboxChannel, "refund", original)
    result = refunds_sweep(now=timezone.now() + timedelta(minutes=2))
    assert (result.asked, result.succeeded, result.failed) == (1, 1, 0)
    made.refresh_from_db()
    assert made.status == S.SUCCEEDED
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_fen) == (Donation.Status.REFUNDED, 10_000)
    assert account(f"RF-{project.pk}").balance_fen == 0
    # Done: a second run finds nothing, and records nothing twice.
    entries = JournalEntry.objects.count()
    assert refunds_sweep(now=timezone.now() + timedelta(minutes=3)).asked == 0
    assert JournalEntry.objects.count() == entries


def test_a_refund_the_channel_could_not_be_asked_about_stays_requested_until_the_sweeper(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    donation = paid(project)
    original = SandboxChannel.refund

    def busy(self: SandboxChannel, **kwargs: Any) -> RefundResult:
        raise TransientChannelError("sandbox: busy")

    monkeypatch.setattr(SandboxChannel, "refund", busy)
    made = refund(donation, 1_000)
    assert made.status == S.REQUESTED
    assert refunds_sweep(now=timezone.now() + timedelta(minutes=2)).succeeded == 0
    monkeypatch.setattr(SandboxChannel, "refund", original)
    assert refunds_sweep(now=timezone.now() + timedelta(minutes=2)).succeeded == 1
    made.refresh_from_db()
    assert made.status == S.SUCCEEDED


def test_a_refund_the_channel_refuses_fails_with_its_reason_and_moves_no_money(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    donation = paid(project)

    def refused(self: SandboxChannel, **kwargs: Any) -> RefundResult:
        raise PermanentChannelError("sandbox: the refunds would exceed the amount paid")

    monkeypatch.setattr(SandboxChannel, "refund", refused)
    before = state()
    made = refund(donation, 1_000)
    assert made.status == S.FAILED
    assert "exceed the amount paid" in made.failure_reason
    after = state()
    assert after[0] == before[0]  # the donation
    assert after[2:] == before[2:]  # journal, ledger, counters, receipts, balances
    # A failed refund holds nothing back: the whole amount can still be refunded.
    monkeypatch.undo()
    assert refund(donation, 10_000).status == S.SUCCEEDED
    assert refunds_sweep(now=timezone.now() + timedelta(minutes=2)).asked == 0


# --- late money -----------------------------------------------------------------------------


@pytest.fixture
def late_donation(project: FundraisingProject) -> Donation:
    from rendao.funds.donations import notification_receive

    donation = donate(project, amount_fen=5_000)
    headers, body = sandbox_notification(donation)
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.EXPIRED)
    assert notification_receive("sandbox", headers, body).status == 200
    donation.refresh_from_db()
    assert donation.refund_flagged
    return donation


def test_late_money_is_refunded_from_refunds_payable_and_only_once(
    project: FundraisingProject, late_donation: Donation, channel_calls: list[str]
) -> None:
    on_time = paid(project, 10_000)
    refunds = late_payments_refund()
    assert [r.out_refund_no for r in refunds] == [late_refund_no(late_donation)]
    assert refunds[0].status == S.SUCCEEDED
    assert account(f"RP-{project.branch_id}").balance_fen == 0
    assert account(f"RF-{project.pk}").balance_fen == 10_000
    project.refresh_from_db()
    # Late money never counted towards the project, so nothing is taken off.
    assert (project.raised_fen, project.donation_count) == (10_000, 1)
    late_donation.refresh_from_db()
    assert late_donation.status == Donation.Status.REFUNDED
    assert late_payments_refund() == []
    assert channel_calls == [late_refund_no(late_donation)]
    on_time.refresh_from_db()
    assert on_time.status == Donation.Status.PAID
    assert accounts_recompute().balanced
