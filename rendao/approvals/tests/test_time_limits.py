"""Time limits: a reminder near the limit, escalation one level up when over; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rendao.approvals.models import RequestStep
from rendao.approvals.services import approvals_sweep, request_decide
from rendao.approvals.tests.helpers import SAME, requester_at, set_flow, submit
from rendao.conftest import Personas, make_staff
from rendao.core.models import AuditEvent, OutboxMessage, Role

pytestmark = pytest.mark.django_db

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def _kinds(kind: str) -> list[str]:
    return sorted(OutboxMessage.objects.filter(kind=kind).values_list("user__username", flat=True))


def test_nothing_happens_before_the_reminder_time(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None)], hours=10)
    submit(requester_at(tree.street), tree.street, now=T0)
    assert approvals_sweep(now=T0 + timedelta(hours=7, minutes=59)) == {"reminded": 0, "escalated": 0}


def test_a_step_near_its_limit_is_reminded_once(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None)], hours=10)
    item = submit(requester_at(tree.street), tree.street, now=T0)
    assert approvals_sweep(now=T0 + timedelta(hours=8)) == {"reminded": 1, "escalated": 0}
    assert approvals_sweep(now=T0 + timedelta(hours=9)) == {"reminded": 0, "escalated": 0}
    assert _kinds("approval.reminder") == ["city", "siming"]
    assert AuditEvent.objects.filter(action="approval.remind", object_id=str(item.pk)).count() == 1


def test_an_overdue_step_is_escalated_one_level_up_once(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None)], hours=10)
    street_admin = make_staff("street_admin", tree.street, Role.BRANCH_ADMIN)
    item = submit(requester_at(tree.street), tree.street, now=T0)
    assert approvals_sweep(now=T0 + timedelta(hours=11)) == {"reminded": 0, "escalated": 1}
    assert approvals_sweep(now=T0 + timedelta(hours=12)) == {"reminded": 0, "escalated": 0}
    # The step is held at the street; one level up is 思明.
    assert _kinds("approval.escalated") == ["siming"]
    step = RequestStep.objects.get(pk=item.current_step_id or 0)
    assert step.escalated_at == T0 + timedelta(hours=11)
    assert street_admin.username not in _kinds("approval.escalated")


def test_a_decided_step_is_neither_reminded_nor_escalated(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None)], hours=10)
    item = submit(requester_at(tree.street), tree.street, now=T0)
    request_decide(actor=personas.siming_staff, request=item, outcome="approve", now=T0 + timedelta(hours=1))
    assert approvals_sweep(now=T0 + timedelta(hours=30)) == {"reminded": 0, "escalated": 0}


def test_the_next_step_gets_its_own_clock(personas: Personas) -> None:
    tree = personas.tree
    set_flow([(Role.BRANCH_ADMIN, SAME, None), (Role.REVIEWER, "district", None)], hours=10)
    item = submit(requester_at(tree.street), tree.street, now=T0)
    request_decide(actor=personas.siming_staff, request=item, outcome="approve", now=T0 + timedelta(hours=9))
    assert approvals_sweep(now=T0 + timedelta(hours=12)) == {"reminded": 0, "escalated": 0}
    assert approvals_sweep(now=T0 + timedelta(hours=20)) == {"reminded": 0, "escalated": 1}
