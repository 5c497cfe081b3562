"""A Hypothesis state machine over where the money and goods go (issue 6), through the services.

Money: donations paid through the signed sandbox notification; disbursement
requests (reserving), decisions through the approvals engine (approve, reject,
withdraw), bank payments (partial), cancellations, donation refunds.
Goods: intakes of one or two lots, transfers between two warehouses, distribution
orders approved and issued earliest-expiry-first, write-offs approved by two people.
Refused steps must change nothing.

After every step:
- no restricted fund below zero, none below what it has reserved, and each fund's
  reserved amount is the unpaid remainder of its open disbursements;
- Σ debits = Σ credits, and every stored balance equals the recomputation;
- for every lot, received = issued + in stock + written off; in stock is the sum
  of its stock rows; no stock row below zero;
- every event is in the transparency log exactly once: each move, payment,
  allocation and paid donation points at its own entry of the right kind, and
  the log holds no entry of these kinds that no business row points at.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from rendao.approvals.models import ApprovalRequest, Decision, Outcome, RequestStatus
from rendao.approvals.services import holders, request_decide, request_withdraw
from rendao.conftest import Tree, make_staff
from rendao.core.models import Role, User
from rendao.disbursements.models import RESERVING, Category, Disbursement, Payment
from rendao.disbursements.models import Status as DS
from rendao.disbursements.services import disbursement_cancel, disbursement_request, payment_record
from rendao.funds.accounting import accounts_recompute
from rendao.funds.donations import fund_code, notification_receive
from rendao.funds.models import Account, Donation, DonationStatus, JournalLine
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.refunds import refund_request
from rendao.funds.tests.factories import donate, open_project
from rendao.goods.distribution import order_issue, order_request
from rendao.goods.intake import IntakeLine, intake_record
from rendao.goods.models import (
    DistributionOrder,
    Lot,
    Move,
    MoveKind,
    OrderStatus,
    Stock,
    Warehouse,
    WriteOff,
)
from rendao.goods.models import WriteOffStatus as WS
from rendao.goods.warehouses import transfer_create
from rendao.goods.writeoffs import writeoff_request
from rendao.ledger.models import Entry, EntryKind
from rendao.recipients.models import Institution, InstitutionKind

K = Account.Kind
amounts = st.integers(min_value=100, max_value=300_000)
ITEMS = [("书包", "儿童款", "个"), ("医用口罩", "KN95", "只")]


def _decide_all(process_type: str, obj_pk: int, *, outcome: str = Outcome.APPROVE) -> None:
    """Decide every step of the object's pending request with a distinct eligible person."""
    request = ApprovalRequest.objects.get(
        process_type=process_type, object_id=obj_pk, status=RequestStatus.PENDING
    )
    while request.status == RequestStatus.PENDING:
        decided = set(Decision.objects.filter(request=request).values_list("decided_by_id", flat=True))
        assert request.current_role_id is not None
        people = holders(
            role_id=request.current_role_id,
            path=request.current_path,
            exclude={request.requester_id, *decided},
        )
        comment = "" if outcome == Outcome.APPROVE else "预算不符"
        request_decide(actor=people[0], request=request, outcome=outcome, comment=comment)
        request.refresh_from_db()
        if outcome != Outcome.APPROVE:
            break


class WhereItGoes(RuleBasedStateMachine):
    tree: Tree
    users: dict[str, User]
    donations = Bundle("donations")
    disbursements = Bundle("disbursements")
    lots = Bundle("lots")

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        branch = self.tree.siming
        self.projects = [
            open_project(branch, self.users["finance"], restricted=True),
            open_project(branch, self.users["finance"], restricted=False, title="红十字博爱基金"),
        ]
        self.payee = Institution.objects.create(
            branch=branch, name="思明区第一中学", kind=InstitutionKind.SCHOOL
        )
        self.warehouses = [
            Warehouse.objects.create(branch=branch, code=f"CK-A-{secrets.token_hex(3)}", name="思明备灾仓库"),
            Warehouse.objects.create(branch=branch, code=f"CK-B-{secrets.token_hex(3)}", name="嘉莲备灾仓库"),
        ]
        self.approved_ever: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _fund(self, project: int) -> Account:
        return Account.objects.get(code=fund_code(self.projects[project]))

    def _counts(self) -> tuple[int, ...]:
        return (
            Entry.objects.count(),
            JournalLine.objects.count(),
            Disbursement.objects.count(),
            Payment.objects.count(),
            Move.objects.count(),
            DistributionOrder.objects.count(),
            WriteOff.objects.count(),
        )

    # --- money in ----------------------------------------------------------------------------

    @rule(target=donations, project=st.integers(0, 1), fen=amounts)
    def donation(self, project: int, fen: int) -> Any:
        donation = donate(self.projects[project], amount_fen=fen)
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert notification_receive("sandbox", *SandboxChannel().pay(donation.out_trade_no)).status == 200
        donation.refresh_from_db()
        assert donation.status == DonationStatus.PAID
        return donation

    @rule(donation=donations, share=st.floats(0.05, 1.0))
    def refund(self, donation: Donation, share: float) -> None:
        donation.refresh_from_db()
        fen = max(1, int((donation.amount_fen - donation.refunded_fen) * share))
        fund = Account.objects.get(code=fund_code(donation.project))
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                refund_request(
                    donation=donation,
                    amount_fen=fen,
                    out_refund_no=f"RF{secrets.token_hex(8)}",
                    reason="donor asked",
                    actor=None,
                )
        except ValidationError:
            fund.refresh_from_db()
            assert self._counts() == before
            return
        fund.refresh_from_db()
        assert fund.kind != K.RESTRICTED_FUND or fund.balance_fen >= fund.reserved_fen

    # --- money out ---------------------------------------------------------------------------

    @rule(target=disbursements, project=st.integers(0, 1), fen=amounts)
    def request(self, project: int, fen: int) -> Any:
        fund = self._fund(project)
        available = fund.balance_fen - fund.reserved_fen
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                d = disbursement_request(
                    actor=self.users["requester"],
                    fund=fund,
                    payee=self.payee,
                    amount_fen=fen,
                    purpose="采购书包",
                    category=Category.CHARITABLE,
                    payee_bank_account="3502 0000 0000",
                )
        except ValidationError:
            assert fen > available
            assert self._counts() == before
            return multiple()
        assert fen <= available
        return d

    @rule(d=disbursements, how=st.sampled_from(["approve", "reject", "withdraw"]))
    def decide(self, d: Disbursement, how: str) -> None:
        d.refresh_from_db()
        if d.status != DS.REQUESTED:
            return
        with TestCase.captureOnCommitCallbacks(execute=True):
            if how == "withdraw":
                request = ApprovalRequest.objects.get(process_type="disbursement", object_id=d.pk)
                request_withdraw(actor=self.users["requester"], request=request)
            else:
                _decide_all(
                    "disbursement", d.pk, outcome=Outcome.APPROVE if how == "approve" else Outcome.REJECT
                )
        d.refresh_from_db()
        expected = {"approve": DS.APPROVED, "reject": DS.REJECTED, "withdraw": DS.WITHDRAWN}[how]
        assert d.status == expected
        if how == "approve":
            self.approved_ever.add(d.pk)

    @rule(d=disbursements, share=st.floats(0.1, 1.2))
    def pay(self, d: Disbursement, share: float) -> None:
        d.refresh_from_db()
        fen = max(1, int(d.amount_fen * share))
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                payment_record(
                    actor=self.users["requester"],
                    disbursement=d,
                    bank_reference=f"BR{secrets.token_hex(6)}",
                    paid_on=timezone.localdate(),
                    amount_fen=fen,
                )
        except ValidationError:
            assert d.status not in (DS.APPROVED, DS.PARTLY_PAID) or fen > d.outstanding_fen
            assert self._counts() == before
            return
        assert d.status in (DS.APPROVED, DS.PARTLY_PAID)
        assert fen <= d.outstanding_fen

    @rule(d=disbursements)
    def cancel(self, d: Disbursement) -> None:
        d.refresh_from_db()
        before = self._counts()
        try:
            disbursement_cancel(actor=self.users["requester"], disbursement=d, reason="no longer needed")
        except ValidationError:
            assert self._counts() == before

    # --- goods -------------------------------------------------------------------------------

    @rule(
        target=lots,
        item=st.integers(0, len(ITEMS) - 1),
        quantity=st.integers(1, 50),
        expiry=st.integers(-1, 400),
        two=st.booleans(),
    )
    def intake(self, item: int, quantity: int, expiry: int, two: bool) -> Any:
        name, spec, unit = ITEMS[item]
        lines = [
            IntakeLine(
                item_name=name,
                specification=spec,
                unit=unit,
                quantity=quantity,
                unit_value_fen=500,
                expires_on=None if expiry < 0 else timezone.localdate() + timedelta(days=expiry + 1),
            )
        ]
        if two:
            lines.append(IntakeLine(item_name=name, specification=spec, unit=unit, quantity=quantity + 1))
        with TestCase.captureOnCommitCallbacks(execute=True):
            intake = intake_record(
                actor=self.users["keeper"],
                warehouse=self.warehouses[0],
                donor_kind="organisation",
                organisation_name="厦门某某公司",
                lines=lines,
                project=self.projects[0],
                receipt_wanted=False,
            )
        return intake.lots.order_by("pk").first()

    @rule(lot=lots, quantity=st.integers(1, 60), back=st.booleans())
    def transfer(self, lot: Lot, quantity: int, back: bool) -> None:
        source, target = self.warehouses[::-1] if back else self.warehouses
        have = Stock.objects.filter(lot=lot, warehouse=source).values_list("quantity", flat=True).first() or 0
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                transfer_create(
                    actor=self.users["keeper"], lot=lot, source=source, target=target, quantity=quantity
                )
        except ValidationError:
            assert quantity > have
            assert self._counts() == before
            return
        assert quantity <= have

    @rule(item=st.integers(0, len(ITEMS) - 1), quantity=st.integers(1, 80), approve=st.booleans())
    def distribute(self, item: int, quantity: int, approve: bool) -> None:
        name, spec, unit = ITEMS[item]
        warehouse = self.warehouses[0]
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                order = order_request(
                    actor=self.users["keeper"],
                    warehouse=warehouse,
                    recipient=self.payee,
                    purpose="开学发放",
                    lines=[(name, spec, unit, quantity)],
                    project=self.projects[0],
                )
        except ValidationError:
            assert self._counts() == before
            return
        if not approve:
            return
        with TestCase.captureOnCommitCallbacks(execute=True):
            _decide_all("goods_distribution", order.pk)
        order.refresh_from_db()
        assert order.status == OrderStatus.APPROVED
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                order_issue(actor=self.users["keeper"], order=order)
        except ValidationError:
            # Stock taken by something else since the request (a transfer, a write-off).
            assert self._counts() == before
            return
        order.refresh_from_db()
        assert order.status == OrderStatus.ISSUED

    @rule(lot=lots, quantity=st.integers(1, 30))
    def write_off(self, lot: Lot, quantity: int) -> None:
        warehouse = self.warehouses[0]
        before = self._counts()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                w = writeoff_request(
                    actor=self.users["keeper"],
                    warehouse=warehouse,
                    lot=lot,
                    quantity=quantity,
                    reason="damaged",
                    explanation="受潮",
                )
        except ValidationError:
            assert self._counts() == before
            return
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                _decide_all("goods_write_off", w.pk)
        except (ValidationError, PermissionDenied):
            # The stock left between request and approval: the decision rolled back.
            w.refresh_from_db()
            assert w.status == WS.REQUESTED
            return
        w.refresh_from_db()
        assert w.status == WS.DONE

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def funds_hold(self) -> None:
        for fund in Account.objects.filter(kind__in=[K.RESTRICTED_FUND, K.GENERAL_FUND]):
            open_rest = (
                Disbursement.objects.filter(fund=fund, status__in=RESERVING).aggregate(
                    s=Sum(F("amount_fen") - F("paid_fen"))
                )["s"]
                or 0
            )
            assert fund.reserved_fen == open_rest, fund.code
            if fund.kind == K.RESTRICTED_FUND:
                assert fund.balance_fen >= 0
                assert fund.balance_fen >= fund.reserved_fen, fund.code
        totals = JournalLine.objects.aggregate(d=Sum("debit_fen"), c=Sum("credit_fen"))
        assert (totals["d"] or 0) == (totals["c"] or 0)
        assert accounts_recompute().differences == []

    @invariant()
    def lots_hold(self) -> None:
        for lot in Lot.objects.all():
            assert (
                lot.quantity_received == lot.quantity_issued + lot.quantity_on_hand + lot.quantity_written_off
            )
            in_rows = Stock.objects.filter(lot=lot).aggregate(s=Sum("quantity"))["s"] or 0
            assert lot.quantity_on_hand == in_rows
        assert not Stock.objects.filter(quantity__lt=0).exists()

    @invariant()
    def logged_exactly_once(self) -> None:
        pointers: list[tuple[int, str]] = []
        kind_of_move: dict[str, str] = {
            MoveKind.RECEIVE: EntryKind.GOODS_RECEIVED,
            MoveKind.TRANSFER: EntryKind.GOODS_MOVED,
            MoveKind.ISSUE: EntryKind.GOODS_ISSUED,
            MoveKind.WRITE_OFF: EntryKind.WRITE_OFF,
        }
        pointers += [(i, kind_of_move[k]) for i, k in Move.objects.values_list("ledger_index", "kind")]
        pointers += [
            (i, EntryKind.DISBURSEMENT) for i in Payment.objects.values_list("ledger_index", flat=True)
        ]
        indexes = [i for i, _k in pointers]
        assert len(indexes) == len(set(indexes)), "two business rows point at one log entry"
        kinds = dict(Entry.objects.filter(index__in=indexes).values_list("index", "kind"))
        for index, kind in pointers:
            assert kinds.get(index) == kind, (index, kind)
        for kind, expected in (
            (EntryKind.GOODS_RECEIVED, Move.objects.filter(kind=MoveKind.RECEIVE).count()),
            (EntryKind.GOODS_MOVED, Move.objects.filter(kind=MoveKind.TRANSFER).count()),
            (EntryKind.GOODS_ISSUED, Move.objects.filter(kind=MoveKind.ISSUE).count()),
            (EntryKind.WRITE_OFF, Move.objects.filter(kind=MoveKind.WRITE_OFF).count()),
            (EntryKind.DISBURSEMENT, Payment.objects.count()),
            (EntryKind.ALLOCATION, len(self.approved_ever)),
            (EntryKind.DONATION_RECEIVED, Donation.objects.filter(paid_at__isnull=False).count()),
        ):
            assert Entry.objects.filter(kind=kind).count() == expected, kind


@pytest.mark.django_db(transaction=False)
def test_money_and_goods_keep_every_invariant(tree: Tree) -> None:
    users = {
        "finance": make_staff("sm-finance", tree.siming, Role.FINANCE),
        "requester": make_staff("sm-finance-2", tree.siming, Role.FINANCE),
        "keeper": make_staff("sm-keeper", tree.siming, Role.WAREHOUSE_KEEPER),
    }
    # Deciders: two administrators at 思明 and at the city, two city finance officers.
    for name, branch, role in (
        ("sm-admin-1", tree.siming, Role.BRANCH_ADMIN),
        ("sm-admin-2", tree.siming, Role.BRANCH_ADMIN),
        ("city-admin-1", tree.city, Role.BRANCH_ADMIN),
        ("city-admin-2", tree.city, Role.BRANCH_ADMIN),
        ("city-finance-1", tree.city, Role.FINANCE),
        ("city-finance-2", tree.city, Role.FINANCE),
    ):
        make_staff(name, branch, role)
    WhereItGoes.tree = tree
    WhereItGoes.users = users
    run_state_machine_as_test(
        WhereItGoes,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
