"""Deciding steps: the engine's rules, through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from rendao.approvals.matters import matter_revise
from rendao.approvals.models import ApprovalRequest, Decision, Matter, RequestStatus
from rendao.approvals.services import delegation_create, request_decide, request_withdraw
from rendao.approvals.tests.helpers import DISTRICT, SAME, requester_at, set_flow, submit
from rendao.conftest import Personas, make_staff
from rendao.core.models import AuditEvent, OutboxMessage, Role, User

pytestmark = pytest.mark.django_db


def _approve(user: User, item: ApprovalRequest, **kw: Any) -> Decision:
    return request_decide(actor=user, request=item, outcome="approve", **kw)


def _fresh(item: ApprovalRequest) -> ApprovalRequest:
    return ApprovalRequest.objects.get(pk=item.pk)


def test_an_item_is_approved_after_every_step_by_distinct_people(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    _approve(personas.siming_staff, item)
    assert _fresh(item).status == RequestStatus.PENDING
    _approve(personas.reviewer, item)
    item = _fresh(item)
    assert item.status == RequestStatus.APPROVED
    assert item.current_step is None
    assert item.finished_at is not None
    # The process type's callback ran in the same transaction.
    assert Matter.objects.get(pk=item.object_id).outcome == Matter.Outcome.APPROVED
    assert AuditEvent.objects.filter(action="approval.approved", object_id=str(item.pk)).exists()


def test_the_requester_never_decides_their_own_item(personas: Personas) -> None:
    tree = personas.tree
    item = submit(personas.siming_staff, tree.street)  # a branch administrator who could decide step 1
    with pytest.raises(PermissionDenied, match="requested"):
        _approve(personas.siming_staff, item)
    assert not Decision.objects.exists()


def test_one_person_never_decides_two_steps(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None), (Role.BRANCH_ADMIN, DISTRICT, None)])
    item = submit(requester_at(tree.street), tree.street)
    _approve(personas.siming_staff, item)
    with pytest.raises(PermissionDenied, match="already decided"):
        _approve(personas.siming_staff, item)
    assert Decision.objects.count() == 1
    _approve(personas.city_staff, item)
    assert _fresh(item).status == RequestStatus.APPROVED


def test_the_database_refuses_a_second_decision_by_the_same_person(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None), (Role.BRANCH_ADMIN, DISTRICT, None)])
    item = submit(requester_at(tree.street), tree.street)
    first = _approve(personas.siming_staff, item)
    second_step = _fresh(item).current_step
    assert second_step is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            request=item,
            step=second_step,
            round=1,
            outcome="approve",
            decided_by=personas.siming_staff,
            requester=item.requester,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            request=item,
            step=second_step,
            round=1,
            outcome="approve",
            decided_by=item.requester,
            requester=item.requester,
        )
    assert list(Decision.objects.all()) == [first]


@override_settings(APPROVAL_TWO_PERSON_FEN=5_000_000)
def test_a_large_item_needs_two_distinct_approvers(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, DISTRICT, None)])
    item = submit(requester_at(tree.street), tree.street, amount_fen=5_000_000)
    _approve(personas.siming_staff, item)
    assert _fresh(item).status == RequestStatus.PENDING
    with pytest.raises(PermissionDenied):
        _approve(personas.siming_staff, item)
    _approve(personas.city_staff, item)
    assert _fresh(item).status == RequestStatus.APPROVED


def test_the_wrong_role_or_a_role_out_of_scope_cannot_decide(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    # Step 1 is a branch administrator of the street or above.
    for user in (
        personas.huli_staff,
        personas.reviewer,
        personas.finance,
        personas.auditor,
        personas.leader,
        personas.sysadmin,
        personas.outsider,
        personas.public,
    ):
        with pytest.raises(PermissionDenied):
            _approve(user, item)
    # A branch administrator below the step's branch does not reach up.
    below = make_staff("community_admin", tree.community, Role.BRANCH_ADMIN)
    with pytest.raises(PermissionDenied):
        _approve(below, item)
    assert not Decision.objects.exists()
    assert _fresh(item).current_step.position == 1  # type: ignore[union-attr]


def test_reject_and_return_need_a_comment_and_change_nothing_without_one(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    for outcome in ("reject", "return"):
        for comment in ("", "   "):
            with pytest.raises(ValidationError):
                request_decide(actor=personas.siming_staff, request=item, outcome=outcome, comment=comment)
    with pytest.raises(ValidationError):
        request_decide(actor=personas.siming_staff, request=item, outcome="maybe")
    assert not Decision.objects.exists()
    assert _fresh(item).status == RequestStatus.PENDING


def test_a_rejected_item_is_final(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    request_decide(actor=personas.siming_staff, request=item, outcome="reject", comment="No budget left.")
    item = _fresh(item)
    assert item.status == RequestStatus.REJECTED
    assert Matter.objects.get(pk=item.object_id).outcome == Matter.Outcome.REJECTED
    with pytest.raises(ValidationError):
        _approve(personas.city_staff, item)
    body = OutboxMessage.objects.filter(kind="approval.rejected").get().body
    assert "No budget left." in body


def test_a_returned_item_is_revised_and_starts_over_from_the_first_step(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    item = submit(requester, tree.street, amount_fen=500_000)
    _approve(personas.siming_staff, item)
    request_decide(actor=personas.reviewer, request=item, outcome="return", comment="Add a quote.")
    item = _fresh(item)
    assert item.status == RequestStatus.RETURNED
    assert item.current_step is None
    # The requester changes it: a larger amount now adds the finance step.
    matter_revise(
        actor=requester,
        request=item,
        title="Buy kits (quote attached)",
        description="With the supplier's quote.",
        amount_fen=1_500_000,
    )
    item = _fresh(item)
    assert item.status == RequestStatus.PENDING
    assert item.round == 2
    assert item.current_step is not None
    assert item.current_step.position == 1
    assert item.amount_fen == 1_500_000
    assert item.title == "Buy kits (quote attached)"
    # The earlier approvals do not count; the same people may decide again in the new round.
    _approve(personas.siming_staff, item)
    _approve(personas.reviewer, item)
    _approve(personas.finance, item)
    assert _fresh(item).status == RequestStatus.APPROVED
    assert Decision.objects.filter(request=item, round=1).count() == 2


def test_only_the_requester_revises_and_only_a_returned_item(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    item = submit(requester, tree.street)
    with pytest.raises(ValidationError):
        matter_revise(actor=requester, request=item, title="t", description="d")
    request_decide(actor=personas.siming_staff, request=item, outcome="return", comment="Why?")
    with pytest.raises(PermissionDenied):
        matter_revise(actor=personas.siming_staff, request=item, title="t", description="d")
    with pytest.raises(ValidationError):
        matter_revise(actor=requester, request=item, title="", description="d")
    assert _fresh(item).status == RequestStatus.RETURNED
    assert Matter.objects.get(pk=item.object_id).title == "Buy first-aid kits"


def test_the_requester_may_withdraw_an_open_item(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    item = submit(requester, tree.street)
    with pytest.raises(PermissionDenied):
        request_withdraw(actor=personas.siming_staff, request=item)
    request_withdraw(actor=requester, request=item)
    assert _fresh(item).status == RequestStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        request_withdraw(actor=requester, request=item)


def test_a_decision_on_a_step_that_has_moved_on_is_refused(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    first_step = item.current_step_id
    _approve(personas.siming_staff, item, step_id=first_step)
    with pytest.raises(ValidationError, match="already been decided"):
        _approve(personas.reviewer, item, step_id=first_step)
    assert Decision.objects.count() == 1


def test_a_delegate_decides_in_the_delegators_place_until_the_end(personas: Personas) -> None:
    tree = personas.tree
    now = timezone.now()
    delegate = make_staff("deputy", tree.community, Role.VOLUNTEER_MANAGER)
    delegation_create(
        actor=personas.siming_staff,
        to_user=delegate,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        now=now,
    )
    item = submit(requester_at(tree.street), tree.street)
    decision = _approve(delegate, item)
    assert decision.decided_by == delegate
    assert decision.on_behalf_of == personas.siming_staff
    # The delegator cannot decide the next step of the same item either.
    set_flow([(Role.BRANCH_ADMIN, SAME, None), (Role.BRANCH_ADMIN, DISTRICT, None)])
    later = submit(requester_at(tree.street, "r2"), tree.street, now=now + timedelta(days=2))
    with pytest.raises(PermissionDenied):
        _approve(delegate, later, now=now + timedelta(days=2))  # the delegation has ended


def test_a_delegate_never_decides_items_of_the_delegator_or_their_own(personas: Personas) -> None:
    tree = personas.tree
    now = timezone.now()
    delegate = make_staff("deputy", tree.street, Role.VOLUNTEER_MANAGER)
    delegation_create(
        actor=personas.siming_staff, to_user=delegate, starts_at=now, ends_at=now + timedelta(days=1), now=now
    )
    own = submit(delegate, tree.street)
    of_delegator = submit(personas.siming_staff, tree.street, title="Seal use")
    for item in (own, of_delegator):
        with pytest.raises(PermissionDenied):
            _approve(delegate, item)
    # Nor after the delegator has decided a step of the item.
    set_flow([(Role.BRANCH_ADMIN, SAME, None), (Role.BRANCH_ADMIN, DISTRICT, None)])
    third = submit(requester_at(tree.street), tree.street, title="Third")
    _approve(personas.siming_staff, third)
    with pytest.raises(PermissionDenied):
        _approve(delegate, third)
    assert Decision.objects.count() == 1


def test_delegation_input_is_checked(personas: Personas) -> None:
    now = timezone.now()
    me = personas.siming_staff
    cases = [
        (me, now, now + timedelta(days=1)),
        (personas.public, now, now + timedelta(days=1)),
        (personas.reviewer, now, now),
        (personas.reviewer, now - timedelta(days=3), now - timedelta(days=2)),
        (personas.reviewer, now, now + timedelta(days=100)),
    ]
    from rendao.approvals.models import Delegation

    for to_user, starts, ends in cases:
        with pytest.raises(ValidationError):
            delegation_create(actor=me, to_user=to_user, starts_at=starts, ends_at=ends, now=now)
    assert not Delegation.objects.exists()
