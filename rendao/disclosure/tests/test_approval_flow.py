"""Disclosures go through the approvals engine: submit, approve (publishes), reject,
withdraw, return for revision, corrections, and who may decide."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.approvals.models import ApprovalRequest, Decision, Flow, Outcome, RequestStatus
from rendao.approvals.services import request_decide, request_withdraw
from rendao.conftest import Personas, make_staff
from rendao.core.models import AuditEvent, Membership, Role, User
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.selectors import disclosure_history, disclosures_public
from rendao.disclosure.services import (
    PROCESS_TYPE,
    content_hash,
    disclosure_correct,
    disclosure_publish,
    disclosure_submit,
    disclosure_update_draft,
)
from rendao.disclosure.tests.helpers import disclosure_leaves, draft
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
S = DisclosureStatus


def state() -> tuple[Any, ...]:
    return (
        list(
            Disclosure.objects.order_by("pk").values_list("status", "version", "ledger_index", "published_by")
        ),
        list(ApprovalRequest.objects.order_by("pk").values_list("status", "current_step_id", "round")),
        Decision.objects.count(),
        Entry.objects.count(),
    )


def test_the_default_flow_is_one_step_by_the_branch_administrator_of_the_same_branch() -> None:
    flow = Flow.objects.get(process_type=PROCESS_TYPE, branch__isnull=True, is_active=True)
    steps = list(flow.steps.select_related("role").order_by("position"))
    assert [(s.role.code, s.level) for s in steps] == [(Role.BRANCH_ADMIN, "same")]


def test_draft_submit_approve_by_another_publishes_with_a_ledger_leaf(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    request = disclosure_submit(actor=personas.finance, disclosure=d)
    d.refresh_from_db()
    assert d.status == S.IN_APPROVAL
    assert request.status == RequestStatus.PENDING
    assert request.title == d.title
    assert request.amount_fen is None
    assert request.branch == personas.tree.city
    assert disclosure_leaves() == []
    assert list(disclosures_public()) == []

    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)

    d.refresh_from_db()
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert d.status == S.PUBLISHED
    assert d.published_by == personas.city_staff
    assert d.published_at is not None
    leaves = disclosure_leaves()
    assert len(leaves) == 1
    assert leaves[0]["index"] == d.ledger_index
    assert leaves[0]["content_sha256"] == content_hash(title=d.title, body=d.body, figures=d.figures)
    assert list(disclosures_public()) == [d]
    actions = set(AuditEvent.objects.filter(object_id=str(d.pk)).values_list("action", flat=True))
    assert {"disclosure.draft", "disclosure.submit", "disclosure.publish"} <= actions


def test_a_district_disclosure_is_decided_at_its_own_branch_not_by_a_sibling(personas: Personas) -> None:
    local_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    d = draft(local_finance, personas.tree.siming)
    request = disclosure_submit(actor=local_finance, disclosure=d)
    before = state()
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.huli_staff, request=request, outcome=Outcome.APPROVE)
    with pytest.raises(PermissionDenied):
        # Finance officers publish without approval only through the low-level step, never by deciding.
        request_decide(actor=personas.finance, request=request, outcome=Outcome.APPROVE)
    assert state() == before
    request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == S.PUBLISHED
    assert d.published_by == personas.siming_staff


def test_rejected_goes_back_to_draft_editable_and_can_be_submitted_again(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    first = disclosure_submit(actor=personas.finance, disclosure=d)
    request_decide(actor=personas.city_staff, request=first, outcome=Outcome.REJECT, comment="数字有误")
    d.refresh_from_db()
    assert d.status == S.DRAFT
    assert disclosure_leaves() == []
    assert AuditEvent.objects.filter(action="disclosure.rejected", object_id=str(d.pk)).count() == 1

    disclosure_update_draft(actor=personas.finance, disclosure=d, figures={"received": 1_250_001})
    second = disclosure_submit(actor=personas.finance, disclosure=d)
    assert second.pk != first.pk
    request_decide(actor=personas.city_staff, request=second, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == S.PUBLISHED
    assert d.figures == {"received": 1_250_001}


def test_withdrawn_goes_back_to_draft(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    request = disclosure_submit(actor=personas.finance, disclosure=d)
    request_withdraw(actor=personas.finance, request=request)
    d.refresh_from_db()
    assert d.status == S.DRAFT
    disclosure_update_draft(actor=personas.finance, disclosure=d, title="改过的标题")
    d.refresh_from_db()
    assert d.title == "改过的标题"


def test_returned_is_editable_by_its_requester_and_resubmitted_in_a_new_round(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    request = disclosure_submit(actor=personas.finance, disclosure=d)
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.RETURN, comment="请补充说明")
    d.refresh_from_db()
    assert d.status == S.IN_APPROVAL
    disclosure_update_draft(
        actor=personas.finance, disclosure=d, body="补充：发放书包 120 个，覆盖 3 所学校。"
    )

    again = disclosure_submit(actor=personas.finance, disclosure=d)
    assert again.pk == request.pk
    assert again.round == 2
    assert again.status == RequestStatus.PENDING
    request_decide(actor=personas.city_staff, request=again, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == S.PUBLISHED
    assert d.body.startswith("补充")


def test_waiting_for_a_decision_it_can_be_neither_edited_nor_published_directly(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    disclosure_submit(actor=personas.finance, disclosure=d)
    before = state()
    with pytest.raises(ValidationError, match="waiting for approval"):
        disclosure_update_draft(actor=personas.finance, disclosure=d, title="偷改")
    with pytest.raises(ValidationError, match="waiting for approval"):
        disclosure_publish(actor=personas.finance, disclosure=d)
    with pytest.raises(ValidationError, match="already waiting"):
        disclosure_submit(actor=personas.finance, disclosure=d)
    assert state() == before
    d.refresh_from_db()
    assert d.title == "爱心小书包 第三季度进展"


def test_a_published_disclosure_cannot_be_submitted(personas: Personas) -> None:
    d = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    with pytest.raises(ValidationError, match="already published"):
        disclosure_submit(actor=personas.finance, disclosure=d)
    assert not ApprovalRequest.objects.exists()


def _drafter_with_the_approving_role(personas: Personas) -> User:
    user = personas.finance
    Membership.objects.create(
        user=user, branch=personas.tree.city, role=Role.objects.get(code=Role.BRANCH_ADMIN)
    )
    return user


def test_the_requester_can_never_approve_their_own(personas: Personas) -> None:
    drafter = _drafter_with_the_approving_role(personas)
    items = [
        disclosure_submit(actor=drafter, disclosure=draft(drafter, personas.tree.city)) for _ in range(3)
    ]
    before = state()
    refused = 0
    attempts = 30
    for i in range(attempts):
        item = items[i % len(items)]
        outcome = [Outcome.APPROVE, Outcome.REJECT, Outcome.RETURN][i % 3]
        try:
            request_decide(actor=drafter, request=item, outcome=outcome, comment="self")
        except PermissionDenied:
            refused += 1
    assert refused == attempts
    assert state() == before
    assert set(Disclosure.objects.values_list("status", flat=True)) == {S.IN_APPROVAL}


def test_the_drafter_cannot_approve_what_a_colleague_submitted(personas: Personas) -> None:
    drafter = _drafter_with_the_approving_role(personas)
    colleague = make_staff("finance2", personas.tree.city, Role.FINANCE)
    d = draft(drafter, personas.tree.city)
    request = disclosure_submit(actor=colleague, disclosure=d)
    before = state()
    with pytest.raises(PermissionDenied, match="drafter"):
        request_decide(actor=drafter, request=request, outcome=Outcome.APPROVE)
    assert state() == before
    d.refresh_from_db()
    assert d.status == S.IN_APPROVAL
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    assert d.status == S.PUBLISHED


def test_correction_cycle_goes_through_the_same_approval(personas: Personas) -> None:
    first = draft(personas.finance, personas.tree.city)
    request_decide(
        actor=personas.city_staff,
        request=disclosure_submit(actor=personas.finance, disclosure=first),
        outcome=Outcome.APPROVE,
    )
    first.refresh_from_db()
    correction = disclosure_correct(
        actor=personas.finance,
        published=first,
        title=first.title,
        body=first.body,
        figures={"received": 1_250_000, "spent": 990_000},
        correction_note="支出少计 100 元。",
    )
    request = disclosure_submit(actor=personas.finance, disclosure=correction)
    assert request.title.endswith("(v2)")
    with pytest.raises(ValidationError, match="already being drafted"):
        disclosure_correct(
            actor=personas.finance,
            published=first,
            title="x",
            body="y",
            figures={},
            correction_note="again",
        )
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)

    correction.refresh_from_db()
    first.refresh_from_db()
    assert correction.status == S.PUBLISHED
    assert first.status == S.PUBLISHED
    assert [v.version for v in disclosure_history(first.series)] == [1, 2]
    assert list(disclosures_public()) == [correction]
    leaves = disclosure_leaves()
    assert [leaf["version"] for leaf in leaves] == [1, 2]
    assert leaves[1]["corrects_version"] == 1
    assert leaves[1]["index"] == correction.ledger_index


def test_a_correction_rejected_goes_back_to_draft_and_the_published_version_stays(personas: Personas) -> None:
    first = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    correction = disclosure_correct(
        actor=personas.finance,
        published=first,
        title=first.title,
        body=first.body,
        figures={"received": 1},
        correction_note="测试",
    )
    request = disclosure_submit(actor=personas.finance, disclosure=correction)
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.REJECT, comment="不对")
    correction.refresh_from_db()
    assert correction.status == S.DRAFT
    assert list(disclosures_public()) == [first]
    assert len(disclosure_leaves()) == 1


def test_out_of_scope_finance_cannot_submit(personas: Personas) -> None:
    local_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    d = draft(local_finance, personas.tree.siming)
    for actor in (huli_finance, personas.auditor, personas.siming_staff):
        with pytest.raises(PermissionDenied):
            disclosure_submit(actor=actor, disclosure=d)
    d.refresh_from_db()
    assert d.status == S.DRAFT
    assert not ApprovalRequest.objects.exists()


def test_only_the_requester_sends_a_returned_disclosure_again(personas: Personas) -> None:
    colleague = make_staff("finance2", personas.tree.city, Role.FINANCE)
    d = draft(personas.finance, personas.tree.city)
    request = disclosure_submit(actor=personas.finance, disclosure=d)
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.RETURN, comment="补充")
    before = state()
    with pytest.raises(PermissionDenied, match="requester"):
        disclosure_submit(actor=colleague, disclosure=d)
    assert state() == before
