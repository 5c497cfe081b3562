"""Distribution orders: request within scope and stock, approval, FEFO issue, all-or-nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from rendao.approvals.models import Outcome, RequestStatus
from rendao.approvals.services import request_decide, request_withdraw
from rendao.conftest import Personas
from rendao.core.models import OutboxMessage
from rendao.feedback.models import UseKind, UseReport
from rendao.funds.tests.factories import open_project
from rendao.goods import distribution
from rendao.goods.models import DistributionOrder, Lot, Move, OrderStatus, Pick
from rendao.goods.tests import goods_factory as f
from rendao.ledger.models import Entry, EntryKind

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_it_requests_an_order_in_approval_with_its_number_and_value(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=100, unit_value_fen=3_000)
    order = distribution.order_request(
        actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="新学期", lines=[("书包", "", "个", 40)]
    )
    assert order.number == f"FF-{TODAY.year}-{order.pk:06d}"
    assert order.status == OrderStatus.REQUESTED
    assert order.value_fen == 40 * 3_000
    assert order.approval_request is not None
    assert order.approval_request.process_type == "goods_distribution"
    assert order.lines.get().quantity == 40


def test_it_refuses_lines_not_in_stock_naming_what_is_available(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    with pytest.raises(ValidationError) as exc:
        distribution.order_request(
            actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="x", lines=[("书包", "", "个", 31)]
        )
    assert "Only 30 个 of 书包" in str(exc.value)
    with pytest.raises(ValidationError):
        distribution.order_request(
            actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="x", lines=[("雨衣", "", "件", 1)]
        )
    assert not DistributionOrder.objects.exists()


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [("", "", "个", 1)],
        [("书包", "", "", 1)],
        [("书包", "", "个", 0)],
        [("书包", "", "个", "5")],
        [("书包", "", "个", 1), ("书包", "", "个", 2)],
        [("书包",)],
    ],
)
def test_it_refuses_bad_lines(personas: Personas, lines: list[object]) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper)
    with pytest.raises(ValidationError):
        distribution.order_request(
            actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="x", lines=lines
        )
    assert not DistributionOrder.objects.exists()


def test_out_of_scope_staff_cannot_request(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper)
    for outsider in (personas.huli_staff, personas.outsider, personas.finance, personas.public):
        with pytest.raises(PermissionDenied):
            distribution.order_request(
                actor=outsider, warehouse=s.wh, recipient=s.school, purpose="x", lines=[("书包", "", "个", 1)]
            )
    assert not DistributionOrder.objects.exists()


def test_it_refuses_an_inactive_or_out_of_scope_recipient_and_a_foreign_need(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper)
    closed = f.institution(personas.tree.siming, "已撤销学校", active=False)
    huli_school = f.institution(personas.tree.huli, "湖里小学")
    foreign_need = f.need(huli_school, personas.huli_staff)
    for kwargs in (
        {"recipient": closed},
        {"recipient": huli_school},
        {"recipient": s.school, "need": foreign_need},
    ):
        with pytest.raises(ValidationError):
            distribution.order_request(
                actor=s.keeper,
                warehouse=s.wh,
                purpose="x",
                lines=[("书包", "", "个", 1)],
                **kwargs,
            )
    assert not DistributionOrder.objects.exists()


def test_the_requester_cannot_approve_and_a_branch_admin_can(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper)
    order = distribution.order_request(
        actor=personas.siming_staff,
        warehouse=s.wh,
        recipient=s.school,
        purpose="x",
        lines=[("书包", "", "个", 5)],
    )
    request = order.approval_request
    assert request is not None
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.huli_staff, request=request, outcome=Outcome.APPROVE)
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED


@override_settings(APPROVAL_TWO_PERSON_FEN=100_000)
def test_a_valuable_order_needs_two_distinct_approvers(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=100, unit_value_fen=5_000)
    order = distribution.order_request(
        actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="x", lines=[("书包", "", "个", 50)]
    )
    request = order.approval_request
    assert request is not None
    assert request.steps.count() == 2
    request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED


def test_rejected_and_withdrawn_orders_follow_the_engine(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper)
    rejected = distribution.order_request(
        actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="x", lines=[("书包", "", "个", 5)]
    )
    assert rejected.approval_request is not None
    request_decide(
        actor=personas.siming_staff,
        request=rejected.approval_request,
        outcome=Outcome.REJECT,
        comment="不需要",
    )
    withdrawn = distribution.order_request(
        actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="y", lines=[("书包", "", "个", 5)]
    )
    assert withdrawn.approval_request is not None
    request_withdraw(actor=s.keeper, request=withdrawn.approval_request)
    rejected.refresh_from_db()
    withdrawn.refresh_from_db()
    assert rejected.status == OrderStatus.REJECTED
    assert withdrawn.status == OrderStatus.WITHDRAWN
    assert withdrawn.approval_request.status == RequestStatus.WITHDRAWN


def test_fefo_skips_expired_lots_and_issues_lots_without_expiry_last(personas: Personas) -> None:
    s = f.scene(personas)
    expired = f.lot(
        s.wh, receiver=s.keeper, item="口罩", unit="只", quantity=50, expires_on=TODAY - timedelta(days=1)
    )
    no_expiry = f.lot(s.wh, receiver=s.keeper, item="口罩", unit="只", quantity=50, expires_on=None)
    late = f.lot(
        s.wh, receiver=s.keeper, item="口罩", unit="只", quantity=30, expires_on=TODAY + timedelta(days=90)
    )
    early = f.lot(
        s.wh, receiver=s.keeper, item="口罩", unit="只", quantity=30, expires_on=TODAY + timedelta(days=10)
    )
    order = f.approved_order(s, lines=[("口罩", "", "只", 80)])
    planned = distribution.fefo_plan(order=order)
    assert [(p.lot.pk, p.quantity) for p in planned] == [(early.pk, 30), (late.pk, 30), (no_expiry.pk, 20)]
    distribution.order_issue(actor=s.keeper, order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    assert order.issued_at is not None
    picks = list(Pick.objects.filter(line__order=order).order_by("id"))
    assert [(p.lot_id, p.quantity) for p in picks] == [(early.pk, 30), (late.pk, 30), (no_expiry.pk, 20)]
    expired.refresh_from_db()
    assert expired.quantity_on_hand == 50
    assert f.lot_identity_holds()


def test_fefo_takes_the_older_lot_among_equal_expiry(personas: Personas) -> None:
    s = f.scene(personas)
    newer = f.lot(s.wh, receiver=s.keeper, quantity=10, received_on=TODAY - timedelta(days=1))
    older = f.lot(s.wh, receiver=s.keeper, quantity=10, received_on=TODAY - timedelta(days=60))
    order = f.approved_order(s, lines=[("书包", "", "个", 15)])
    planned = distribution.fefo_plan(order=order)
    assert [(p.lot.pk, p.quantity) for p in planned] == [(older.pk, 10), (newer.pk, 5)]


def test_issue_writes_moves_leaves_the_use_report_and_the_message(personas: Personas) -> None:
    s = f.scene(personas)
    project = open_project(personas.tree.siming, personas.finance)
    f.lot(s.wh, receiver=s.keeper, quantity=300, unit_value_fen=4_000)
    order = f.approved_order(s, lines=[("书包", "", "个", 200)], project=project)
    distribution.order_issue(actor=s.keeper, order=order)
    move = Move.objects.get(reference=f"distribution:{order.number}")
    leaf = Entry.objects.get(index=move.ledger_index)
    assert leaf.kind == EntryKind.GOODS_ISSUED
    assert b'"order":"' + order.number.encode() + b'"' in bytes(leaf.data)
    report = UseReport.objects.get(source=f"distribution:{order.number}")
    assert report.kind == UseKind.GOODS
    assert report.amount_fen == 200 * 4_000
    assert report.items == "书包 × 200 个"
    assert report.recipient == s.school.name
    assert report.ledger_index == move.ledger_index
    message = OutboxMessage.objects.get(kind="goods.order.issued")
    assert message.user_id == s.rep.pk
    assert "/inst/goods/" in message.body


def test_explicit_picks_are_validated(personas: Personas) -> None:
    s = f.scene(personas)
    a = f.lot(s.wh, receiver=s.keeper, quantity=10)
    b = f.lot(s.wh, receiver=s.keeper, quantity=10, expires_on=TODAY + timedelta(days=5))
    other_item = f.lot(s.wh, receiver=s.keeper, item="文具", unit="套", quantity=10)
    old = f.lot(s.wh, receiver=s.keeper, quantity=10, expires_on=TODAY - timedelta(days=5))
    order = f.approved_order(s, lines=[("书包", "", "个", 12)])
    line = order.lines.get()
    bad_plans = [
        [(line.pk, other_item.pk, 12)],  # wrong item
        [(line.pk, a.pk, 10)],  # does not add up
        [(line.pk, a.pk, 10), (line.pk, old.pk, 2)],  # expired
        [(line.pk + 999, a.pk, 12)],  # line of another order
        [(line.pk, a.pk, 12)],  # more than the lot holds
        [(line.pk, a.pk, 0), (line.pk, b.pk, 12)],  # a zero pick
        [(line.pk, 99_999, 12)],  # unknown lot
    ]
    for plan in bad_plans:
        with pytest.raises(ValidationError):
            distribution.order_issue(actor=s.keeper, order=order, picks=plan)
        order.refresh_from_db()
        assert order.status == OrderStatus.APPROVED
        assert not Pick.objects.exists()
    # A later-expiring lot first, by choice: allowed.
    distribution.order_issue(actor=s.keeper, order=order, picks=[(line.pk, a.pk, 10), (line.pk, b.pk, 2)])
    assert sorted(Pick.objects.values_list("lot_id", "quantity")) == sorted([(a.pk, 10), (b.pk, 2)])
    assert f.lot_identity_holds()


def test_issuing_more_than_in_stock_changes_nothing(personas: Personas) -> None:
    s = f.scene(personas)
    bags = f.lot(s.wh, receiver=s.keeper, quantity=50)
    f.lot(s.wh, receiver=s.keeper, item="文具", unit="套", quantity=50)
    order = f.approved_order(s, lines=[("文具", "", "套", 20), ("书包", "", "个", 40)])
    # The bags go elsewhere between approval and issue.
    other = f.approved_order(s, lines=[("书包", "", "个", 30)])
    distribution.order_issue(actor=s.keeper, order=other)
    entries_before = Entry.objects.count()
    moves_before = Move.objects.count()
    with pytest.raises(ValidationError) as exc:
        distribution.order_issue(actor=s.keeper, order=order)
    assert "Only 20 个 of 书包" in str(exc.value)
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    assert Entry.objects.count() == entries_before
    assert Move.objects.count() == moves_before
    assert not Pick.objects.filter(line__order=order).exists()
    assert Lot.objects.get(item_name="文具").quantity_on_hand == 50
    bags.refresh_from_db()
    assert bags.quantity_on_hand == 20
    assert f.lot_identity_holds()


def test_only_approved_orders_are_issued_by_staff_in_scope(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper)
    pending = distribution.order_request(
        actor=s.keeper, warehouse=s.wh, recipient=s.school, purpose="x", lines=[("书包", "", "个", 5)]
    )
    with pytest.raises(ValidationError):
        distribution.order_issue(actor=s.keeper, order=pending)
    order = f.approved_order(s, lines=[("书包", "", "个", 5)])
    with pytest.raises(PermissionDenied):
        distribution.order_issue(actor=personas.huli_staff, order=order)
    distribution.order_issue(actor=s.keeper, order=order)
    with pytest.raises(ValidationError):
        distribution.order_issue(actor=s.keeper, order=order)
    assert Pick.objects.count() == 1
    assert f.lot_identity_holds()


def test_goods_given_for_a_project_serve_only_that_project_and_general_goods_serve_any(
    personas: Personas,
) -> None:
    s = f.scene(personas)
    bags = open_project(personas.tree.siming, s.keeper, title="爱心书包")
    typhoon = open_project(personas.tree.siming, s.keeper, title="台风救助")
    given_for_bags = f.lot(s.wh, receiver=s.keeper, quantity=30)
    given_for_bags.intake.project = bags
    given_for_bags.intake.save(update_fields=["project"])
    general = f.lot(s.wh, receiver=s.keeper, quantity=10)
    # An order for another project (or for none) sees only the 10 general bags.
    for project in (typhoon, None):
        with pytest.raises(ValidationError) as exc:
            distribution.order_request(
                actor=s.keeper,
                warehouse=s.wh,
                recipient=s.school,
                purpose="x",
                lines=[("书包", "", "个", 11)],
                project=project,
            )
        assert "Only 10 个 of 书包" in str(exc.value)
    assert not DistributionOrder.objects.exists()
    # The project's own order may use both, its designated lot and the general one.
    order = f.approved_order(s, lines=[("书包", "", "个", 40)], project=bags)
    distribution.order_issue(actor=s.keeper, order=order)
    assert {p.lot_id for p in Pick.objects.filter(line__order=order)} == {given_for_bags.pk, general.pk}
    # An explicit pick of a designated lot for another project's order is refused.
    f.lot(s.wh, receiver=s.keeper, quantity=5)
    other = f.lot(s.wh, receiver=s.keeper, quantity=5)
    other.intake.project = bags
    other.intake.save(update_fields=["project"])
    order = f.approved_order(s, lines=[("书包", "", "个", 5)], project=typhoon)
    line = order.lines.get()
    with pytest.raises(ValidationError) as exc:
        distribution.order_issue(actor=s.keeper, order=order, picks=[(line.pk, other.pk, 5)])
    assert exc.value.code == "other_project"
    assert f.lot_identity_holds()
