"""Write-offs: within stock, two distinct approvers always, stock re-checked at approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rendao.approvals.models import Outcome, RequestStatus
from rendao.approvals.services import request_decide, request_withdraw
from rendao.conftest import Personas
from rendao.goods import distribution, writeoffs
from rendao.goods.models import (
    Move,
    MoveKind,
    StockTake,
    StockTakeLine,
    WriteOff,
    WriteOffReason,
    WriteOffStatus,
)
from rendao.goods.tests import goods_factory as f
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _request(s: f.Scene, lot_quantity: int = 20, quantity: int = 10) -> WriteOff:
    lot = f.lot(s.wh, receiver=s.keeper, quantity=lot_quantity, expires_on=TODAY - timedelta(days=3))
    return writeoffs.writeoff_request(
        actor=s.keeper,
        warehouse=s.wh,
        lot=lot,
        quantity=quantity,
        reason=WriteOffReason.EXPIRED,
        explanation="过期",
    )


def test_it_requests_a_numbered_write_off_in_a_two_step_flow(personas: Personas) -> None:
    s = f.scene(personas)
    writeoff = _request(s)
    assert writeoff.number == f"HX-{TODAY.year}-{writeoff.pk:06d}"
    assert writeoff.status == WriteOffStatus.REQUESTED
    request = writeoff.approval_request
    assert request is not None
    assert request.process_type == "goods_write_off"
    # Two steps whatever the (small) value.
    assert request.steps.count() == 2


def test_it_needs_two_distinct_approvers_and_then_takes_the_stock_out(personas: Personas) -> None:
    s = f.scene(personas)
    writeoff = _request(s)
    request = writeoff.approval_request
    assert request is not None
    # The requester decides nothing.
    with pytest.raises(PermissionDenied):
        request_decide(actor=s.keeper, request=request, outcome=Outcome.APPROVE)
    # The city administrator may decide either step, but not both.
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    writeoff.refresh_from_db()
    assert writeoff.status == WriteOffStatus.REQUESTED
    assert writeoff.lot.quantity_written_off == 0
    # The district administrator holds no role at the second (parent) level.
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    assert not Move.objects.filter(kind=MoveKind.WRITE_OFF).exists()


def test_the_second_approver_completes_it(personas: Personas) -> None:
    s = f.scene(personas)
    writeoff = _request(s)
    request = writeoff.approval_request
    assert request is not None
    request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    writeoff.refresh_from_db()
    assert writeoff.status == WriteOffStatus.DONE
    assert writeoff.move is not None
    assert writeoff.move.kind == MoveKind.WRITE_OFF
    assert writeoff.move.actor_id == personas.city_staff.pk
    leaf = Entry.objects.get(index=writeoff.move.ledger_index)
    assert leaf.kind == EntryKind.WRITE_OFF
    assert writeoff.number.encode() in bytes(leaf.data)
    lot = writeoff.lot
    lot.refresh_from_db()
    assert (lot.quantity_written_off, lot.quantity_on_hand) == (10, 10)
    assert f.lot_identity_holds()


def test_approval_fails_cleanly_when_the_stock_is_gone(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=20)
    writeoff = writeoffs.writeoff_request(
        actor=s.keeper,
        warehouse=s.wh,
        lot=lot,
        quantity=15,
        reason=WriteOffReason.DAMAGED,
        explanation="受潮",
    )
    request = writeoff.approval_request
    assert request is not None
    request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    # Meanwhile most of the lot is issued.
    order = f.approved_order(s, lines=[("书包", "", "个", 10)])
    distribution.order_issue(actor=s.keeper, order=order)
    entries = Entry.objects.count()
    with pytest.raises(ValidationError) as exc:
        request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    assert "Only 10" in str(exc.value)
    request.refresh_from_db()
    writeoff.refresh_from_db()
    lot.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert writeoff.status == WriteOffStatus.REQUESTED
    assert writeoff.move is None
    assert (lot.quantity_on_hand, lot.quantity_written_off) == (10, 0)
    assert Entry.objects.count() == entries
    assert f.lot_identity_holds()
    # The approver rejects it instead.
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.REJECT, comment="库存已发放")
    writeoff.refresh_from_db()
    assert writeoff.status == WriteOffStatus.REJECTED


def test_it_refuses_more_than_in_stock_and_bad_input(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=5)
    bad = [
        {"quantity": 6, "reason": WriteOffReason.LOST, "explanation": "x"},
        {"quantity": 0, "reason": WriteOffReason.LOST, "explanation": "x"},
        {"quantity": "2", "reason": WriteOffReason.LOST, "explanation": "x"},
        {"quantity": 1, "reason": "stolen", "explanation": "x"},
        {"quantity": 1, "reason": WriteOffReason.LOST, "explanation": "  "},
        {"quantity": 1, "reason": WriteOffReason.LOST, "explanation": "x" * 501},
    ]
    for kwargs in bad:
        with pytest.raises(ValidationError):
            writeoffs.writeoff_request(actor=s.keeper, warehouse=s.wh, lot=lot, **kwargs)  # type: ignore[arg-type]
    other = f.warehouse(personas.tree.siming)
    with pytest.raises(ValidationError):
        writeoffs.writeoff_request(
            actor=s.keeper, warehouse=other, lot=lot, quantity=1, reason=WriteOffReason.LOST, explanation="x"
        )
    with pytest.raises(PermissionDenied):
        writeoffs.writeoff_request(
            actor=personas.huli_staff,
            warehouse=s.wh,
            lot=lot,
            quantity=1,
            reason=WriteOffReason.LOST,
            explanation="x",
        )
    assert not WriteOff.objects.exists()


def test_withdrawn_write_off_changes_no_stock(personas: Personas) -> None:
    s = f.scene(personas)
    writeoff = _request(s)
    assert writeoff.approval_request is not None
    request_withdraw(actor=s.keeper, request=writeoff.approval_request)
    writeoff.refresh_from_db()
    assert writeoff.status == WriteOffStatus.WITHDRAWN
    assert writeoff.lot.quantity_written_off == 0


def test_a_stocktake_shortage_opens_a_linked_write_off(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=20)
    stocktake = StockTake.objects.create(warehouse=s.wh, started_by=s.keeper, status="closed")
    line = StockTakeLine.objects.create(stocktake=stocktake, lot=lot, expected=20, counted=17)
    writeoff = writeoffs.writeoff_request_for_stocktake_line(actor=s.keeper, line=line)
    line.refresh_from_db()
    assert line.write_off_id == writeoff.pk
    assert (writeoff.quantity, writeoff.reason) == (3, WriteOffReason.LOST)
    with pytest.raises(ValidationError):
        writeoffs.writeoff_request_for_stocktake_line(actor=s.keeper, line=line)
    full = StockTakeLine.objects.create(
        stocktake=stocktake, lot=f.lot(s.wh, receiver=s.keeper, quantity=4), expected=4, counted=4
    )
    with pytest.raises(ValidationError):
        writeoffs.writeoff_request_for_stocktake_line(actor=s.keeper, line=full)
    assert WriteOff.objects.count() == 1
