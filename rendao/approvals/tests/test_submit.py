"""Submitting an item: which flow, which steps, where they are held, the two-person rule."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from rendao.approvals.models import ApprovalRequest, Flow, Matter, RequestStatus, RequestStep
from rendao.approvals.tests.helpers import CITY, DISTRICT, PARENT, SAME, requester_at, set_flow, submit
from rendao.conftest import Personas
from rendao.core.models import AuditEvent, OutboxMessage, Role

pytestmark = pytest.mark.django_db


def _steps(item: ApprovalRequest) -> list[tuple[str, str, bool]]:
    return [
        (s.role.code, s.branch.name, s.second_approver)
        for s in RequestStep.objects.filter(request=item, round=item.round).select_related("role", "branch")
    ]


def test_the_default_matter_flow_is_seeded(personas: Personas) -> None:
    flow = Flow.objects.get(process_type="matter", branch__isnull=True)
    assert [(s.role.code, s.level, s.min_amount_fen) for s in flow.steps.order_by("position")] == [
        (Role.BRANCH_ADMIN, "same", None),
        (Role.REVIEWER, "district", None),
        (Role.FINANCE, "city", 1_000_000),
    ]


def test_steps_are_placed_relative_to_the_objects_branch(personas: Personas) -> None:
    tree = personas.tree
    set_flow(
        [
            (Role.BRANCH_ADMIN, SAME, None),
            (Role.REVIEWER, PARENT, None),
            (Role.REVIEWER, DISTRICT, None),
            (Role.FINANCE, CITY, None),
        ]
    )
    item = submit(requester_at(tree.community), tree.community)
    assert _steps(item) == [
        (Role.BRANCH_ADMIN, tree.community.name, False),
        (Role.REVIEWER, tree.street.name, False),
        (Role.REVIEWER, tree.siming.name, False),
        (Role.FINANCE, tree.city.name, False),
    ]
    assert item.status == RequestStatus.PENDING
    assert item.current_role_id == Role.objects.get(code=Role.BRANCH_ADMIN).pk
    assert item.current_path == tree.community.path
    assert item.current_due_at is not None


def test_an_amount_condition_adds_its_step_only_at_or_over_the_threshold(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    small = submit(requester, tree.street, amount_fen=999_999)
    large = submit(requester, tree.street, amount_fen=1_000_000)
    none = submit(requester, tree.street, amount_fen=None)
    assert [r for r, _b, _s in _steps(small)] == [Role.BRANCH_ADMIN, Role.REVIEWER]
    assert [r for r, _b, _s in _steps(large)] == [Role.BRANCH_ADMIN, Role.REVIEWER, Role.FINANCE]
    assert [r for r, _b, _s in _steps(none)] == [Role.BRANCH_ADMIN, Role.REVIEWER]


@override_settings(APPROVAL_TWO_PERSON_FEN=5_000_000)
def test_a_large_amount_needs_a_second_approver_even_with_a_one_step_flow(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, DISTRICT, None)])
    requester = requester_at(tree.street)
    below = submit(requester, tree.street, amount_fen=4_999_999)
    at = submit(requester, tree.street, amount_fen=5_000_000)
    assert _steps(below) == [(Role.BRANCH_ADMIN, tree.siming.name, False)]
    assert _steps(at) == [
        (Role.BRANCH_ADMIN, tree.siming.name, False),
        (Role.BRANCH_ADMIN, tree.siming.name, True),
    ]


def test_a_branch_subtree_may_have_its_own_flow(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.FINANCE, CITY, None)], branch=tree.siming)
    inside = submit(requester_at(tree.community, "a"), tree.community)
    outside = submit(requester_at(tree.school, "b"), tree.school)
    assert [r for r, _b, _s in _steps(inside)] == [Role.FINANCE]
    assert [r for r, _b, _s in _steps(outside)] == [Role.BRANCH_ADMIN, Role.REVIEWER]


def test_submitting_notifies_the_first_deciders_and_is_audited(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    # Branch administrators at the street or above: 思明 and the city society.
    recipients = set(
        OutboxMessage.objects.filter(kind="approval.waiting").values_list("user__username", flat=True)
    )
    assert recipients == {"siming", "city"}
    assert AuditEvent.objects.filter(action="approval.submit", object_id=str(item.pk)).count() == 1


def test_without_any_flow_nothing_is_stored(personas: Personas) -> None:
    tree = personas.tree
    Flow.objects.filter(process_type="matter").delete()
    requester = requester_at(tree.street)
    with pytest.raises(ValidationError):
        submit(requester, tree.street)
    assert not Matter.objects.exists()
    assert not ApprovalRequest.objects.exists()


def test_bad_matter_input_is_refused_and_nothing_is_stored(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    for kwargs in ({"title": ""}, {"title": "x" * 101}, {"amount_fen": -1}, {"amount_fen": 10_000_000_001}):
        with pytest.raises(ValidationError):
            submit(requester, tree.street, **kwargs)
    assert not Matter.objects.exists()
    assert not ApprovalRequest.objects.exists()


def test_only_staff_with_a_business_role_there_may_request_a_matter(personas: Personas) -> None:
    tree = personas.tree
    for user in (
        personas.auditor,
        personas.sysadmin,
        personas.outsider,
        personas.public,
        personas.huli_staff,
    ):
        with pytest.raises(PermissionDenied):
            submit(user, tree.street)
    assert not ApprovalRequest.objects.exists()
