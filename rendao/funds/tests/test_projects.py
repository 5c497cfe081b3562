"""Fundraising projects: the plan, its lifecycle through the approvals engine, co-initiators."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rendao.approvals.models import ApprovalRequest, Outcome, RequestStatus
from rendao.approvals.services import request_decide, request_withdraw
from rendao.conftest import Personas, make_staff
from rendao.core.models import AuditEvent, Role, User
from rendao.funds.models import Account, CoInitiator, FundraisingProject, ProjectEvent
from rendao.funds.projects import (
    EMERGENCY_FILING_DAYS,
    coinitiator_add,
    project_create,
    project_transition,
)

S = FundraisingProject.Status
# 10:00 in Xiamen: the local date is TODAY.
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = date(2026, 6, 1)


@pytest.fixture
def drafter(personas: Personas) -> User:
    """A finance officer of 思明: drafts the plan, so no decider of its flow is its requester."""
    return make_staff("siming_finance", personas.tree.siming, Role.FINANCE)


def plan(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "思明区助学募捐",
        "purpose": "资助困难学生",
        "start_date": TODAY,
        "end_date": TODAY + timedelta(days=60),
        "area": "厦门市思明区",
        "responsible_name": "项目负责人",
        "responsible_office_address": "厦门市思明区某路1号红十字会办公室",
        "channels": ["sandbox", "wechatpay"],
        "bank_account": "厦门市红十字会 基本户 0000",
        "beneficiaries": "思明区困难家庭学生",
        "intended_use": "学费与生活补助",
        "cost_fen": 0,
        "leftover_handling": "转入同类助学项目",
        "target_fen": 10_000_000,
    }
    values.update(overrides)
    return values


def create(actor: User, personas: Personas, **overrides: Any) -> FundraisingProject:
    return project_create(actor=actor, branch=personas.tree.siming, now=NOW, **plan(**overrides))


def approve_through_flow(project: FundraisingProject, personas: Personas) -> ApprovalRequest:
    request = ApprovalRequest.objects.get(process_type="fundraising_plan", object_id=project.pk)
    for decider in (personas.siming_staff, personas.finance, personas.city_staff):
        request_decide(actor=decider, request=request, outcome=Outcome.APPROVE, now=NOW)
    return request


def approved(drafter: User, personas: Personas, **overrides: Any) -> FundraisingProject:
    project = create(drafter, personas, **overrides)
    project_transition(actor=drafter, project=project, to=S.IN_APPROVAL, now=NOW)
    approve_through_flow(project, personas)
    project.refresh_from_db()
    assert project.status == S.APPROVED
    return project


def snapshot(project: FundraisingProject) -> tuple[Any, ...]:
    project.refresh_from_db()
    return (
        project.status,
        project.filing_number,
        project.filed_on,
        project.opened_on,
        project.filing_deadline,
        project.events.count(),
        AuditEvent.objects.count(),
    )


def test_the_happy_path_goes_through_the_flows_deciders_to_a_published_final_report(
    drafter: User, personas: Personas
) -> None:
    project = create(drafter, personas, restricted=True)
    assert project.status == S.DRAFT

    project_transition(actor=drafter, project=project, to=S.IN_APPROVAL, now=NOW)
    assert project.status == S.IN_APPROVAL
    request = ApprovalRequest.objects.get(process_type="fundraising_plan", object_id=project.pk)
    assert request.status == RequestStatus.PENDING
    assert request.amount_fen == 10_000_000

    # Each step has its own decider: the step's role at the step's level.
    with pytest.raises(PermissionDenied):
        request_decide(actor=personas.finance, request=request, outcome=Outcome.APPROVE, now=NOW)
    request = approve_through_flow(project, personas)
    assert request.status == RequestStatus.APPROVED
    project.refresh_from_db()
    assert project.status == S.APPROVED

    project_transition(
        actor=drafter, project=project, to=S.FILED, filing_number="350200-2026-001", filed_on=TODAY, now=NOW
    )
    assert (project.status, project.filing_number, project.filed_on) == (S.FILED, "350200-2026-001", TODAY)

    project_transition(actor=drafter, project=project, to=S.OPEN, now=NOW)
    assert (project.status, project.opened_on, project.filing_deadline) == (S.OPEN, TODAY, None)
    project_transition(actor=drafter, project=project, to=S.CLOSED, now=NOW + timedelta(days=30))
    project_transition(
        actor=drafter, project=project, to=S.FINAL_REPORT_PUBLISHED, now=NOW + timedelta(days=40)
    )
    assert project.status == S.FINAL_REPORT_PUBLISHED
    assert project.final_report_published_on == TODAY + timedelta(days=40)

    assert list(project.events.values_list("from_status", "to_status")) == [
        ("", S.DRAFT),
        (S.DRAFT, S.IN_APPROVAL),
        (S.IN_APPROVAL, S.APPROVED),
        (S.APPROVED, S.FILED),
        (S.FILED, S.OPEN),
        (S.OPEN, S.CLOSED),
        (S.CLOSED, S.FINAL_REPORT_PUBLISHED),
    ]
    actions = set(AuditEvent.objects.filter(object_id=str(project.pk)).values_list("action", flat=True))
    assert {"funds.project.create", "funds.project.approved", "funds.project.filed"} <= actions


def test_a_restricted_project_gets_its_restricted_fund_account_when_filed(
    drafter: User, personas: Personas
) -> None:
    project = approved(drafter, personas, restricted=True)
    assert not Account.objects.filter(project=project).exists()
    project_transition(
        actor=drafter, project=project, to=S.FILED, filing_number="F-1", filed_on=TODAY, now=NOW
    )
    account = Account.objects.get(project=project)
    assert (account.code, account.kind, account.branch, account.balance_fen) == (
        f"RF-{project.pk}",
        Account.Kind.RESTRICTED_FUND,
        personas.tree.siming,
        0,
    )


def test_an_unrestricted_project_gets_no_restricted_fund(drafter: User, personas: Personas) -> None:
    project = approved(drafter, personas, restricted=False)
    project_transition(
        actor=drafter, project=project, to=S.FILED, filing_number="F-1", filed_on=TODAY, now=NOW
    )
    assert not Account.objects.filter(project=project).exists()


def test_a_rejected_plan_goes_back_to_draft_and_can_be_submitted_again(
    drafter: User, personas: Personas
) -> None:
    project = create(drafter, personas)
    project_transition(actor=drafter, project=project, to=S.IN_APPROVAL, now=NOW)
    request = ApprovalRequest.objects.get(process_type="fundraising_plan", object_id=project.pk)
    request_decide(
        actor=personas.siming_staff, request=request, outcome=Outcome.REJECT, comment="目标过高", now=NOW
    )
    project.refresh_from_db()
    assert project.status == S.DRAFT
    project_transition(actor=drafter, project=project, to=S.IN_APPROVAL, now=NOW)
    assert project.status == S.IN_APPROVAL


def test_a_withdrawn_plan_goes_back_to_draft(drafter: User, personas: Personas) -> None:
    project = create(drafter, personas)
    project_transition(actor=drafter, project=project, to=S.IN_APPROVAL, now=NOW)
    request = ApprovalRequest.objects.get(process_type="fundraising_plan", object_id=project.pk)
    request_withdraw(actor=drafter, request=request, now=NOW)
    project.refresh_from_db()
    assert project.status == S.DRAFT


def test_a_project_cannot_open_before_it_is_filed(drafter: User, personas: Personas) -> None:
    project = approved(drafter, personas)
    before = snapshot(project)
    with pytest.raises(ValidationError, match="must be filed before it opens"):
        project_transition(actor=drafter, project=project, to=S.OPEN, now=NOW)
    assert snapshot(project) == before


def test_filing_needs_a_number_and_a_date_not_in_the_future(drafter: User, personas: Personas) -> None:
    project = approved(drafter, personas)
    before = snapshot(project)
    with pytest.raises(ValidationError) as exc:
        project_transition(
            actor=drafter, project=project, to=S.FILED, filing_number="  ", filed_on=TODAY, now=NOW
        )
    assert "filing_number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        project_transition(actor=drafter, project=project, to=S.FILED, filing_number="F-1", now=NOW)
    assert "filed_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        project_transition(
            actor=drafter,
            project=project,
            to=S.FILED,
            filing_number="F-1",
            filed_on=TODAY + timedelta(days=1),
            now=NOW,
        )
    assert "filed_on" in exc.value.message_dict
    assert snapshot(project) == before


def test_an_emergency_project_may_open_first_with_a_filing_deadline_ten_days_on(
    drafter: User, personas: Personas
) -> None:
    project = approved(drafter, personas, emergency=True, restricted=True)
    project_transition(actor=drafter, project=project, to=S.OPEN, now=NOW)
    assert project.status == S.OPEN
    assert project.filed_on is None
    assert project.filing_deadline == TODAY + timedelta(days=EMERGENCY_FILING_DAYS) == date(2026, 6, 11)
    # It takes donations before filing, so its restricted fund exists already.
    assert Account.objects.filter(project=project, kind=Account.Kind.RESTRICTED_FUND).count() == 1

    later = NOW + timedelta(days=3)
    project_transition(
        actor=drafter,
        project=project,
        to=S.OPEN,
        filing_number="E-1",
        filed_on=TODAY + timedelta(days=3),
        now=later,
    )
    filed = FundraisingProject.objects.get(pk=project.pk)
    assert (filed.status, filed.filing_number, filed.filed_on) == (S.OPEN, "E-1", date(2026, 6, 4))
    assert list(filed.events.values_list("note", flat=True))[-1] == "filed"
    before = snapshot(project)
    with pytest.raises(ValidationError, match="already been filed"):
        project_transition(
            actor=drafter, project=project, to=S.OPEN, filing_number="E-2", filed_on=TODAY, now=later
        )
    assert snapshot(project) == before


def test_a_project_opens_only_between_its_start_and_end_dates(drafter: User, personas: Personas) -> None:
    project = approved(drafter, personas, start_date=TODAY + timedelta(days=5))
    project_transition(
        actor=drafter, project=project, to=S.FILED, filing_number="F-1", filed_on=TODAY, now=NOW
    )
    before = snapshot(project)
    with pytest.raises(ValidationError, match="between its start and end dates"):
        project_transition(actor=drafter, project=project, to=S.OPEN, now=NOW)
    assert snapshot(project) == before
    project_transition(actor=drafter, project=project, to=S.OPEN, now=NOW + timedelta(days=5))
    assert project.status == S.OPEN


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (S.CLOSED, "cannot become"),
        (S.FILED, "cannot become"),
        (S.OPEN, "cannot become"),
        (S.FINAL_REPORT_PUBLISHED, "cannot become"),
        (S.APPROVED, "cannot become"),
        ("nonsense", "Unknown project status"),
    ],
)
def test_a_draft_cannot_skip_its_approval(drafter: User, personas: Personas, to: str, message: str) -> None:
    project = create(drafter, personas)
    before = snapshot(project)
    with pytest.raises(ValidationError, match=message):
        project_transition(
            actor=drafter, project=project, to=to, filing_number="F-1", filed_on=TODAY, now=NOW
        )
    assert snapshot(project) == before


def test_staff_cannot_approve_a_plan_themselves(drafter: User, personas: Personas) -> None:
    project = create(drafter, personas)
    project_transition(actor=drafter, project=project, to=S.IN_APPROVAL, now=NOW)
    before = snapshot(project)
    with pytest.raises(ValidationError, match="Only the approval of the plan"):
        project_transition(actor=drafter, project=project, to=S.APPROVED, now=NOW)
    with pytest.raises(ValidationError, match="Only the approval of the plan"):
        project_transition(actor=drafter, project=project, to=S.DRAFT, now=NOW)
    assert snapshot(project) == before


@pytest.mark.parametrize("who", ["huli_staff", "siming_staff", "auditor", "leader", "outsider", "public"])
def test_users_without_finance_manage_at_the_branch_are_refused(
    drafter: User, personas: Personas, who: str
) -> None:
    actor = getattr(personas, who)
    project = create(drafter, personas)
    before = snapshot(project)
    with pytest.raises(PermissionDenied):
        project_transition(actor=actor, project=project, to=S.IN_APPROVAL, now=NOW)
    with pytest.raises(PermissionDenied):
        project_create(actor=actor, branch=personas.tree.siming, now=NOW, **plan())
    with pytest.raises(PermissionDenied):
        coinitiator_add(
            actor=actor,
            project=project,
            organisation_name="某基金会",
            assessment_note="资质良好",
            role="合作发起",
        )
    assert snapshot(project) == before
    assert FundraisingProject.objects.count() == 1
    assert not CoInitiator.objects.exists()


def test_a_finance_officer_of_another_district_is_out_of_scope(drafter: User, personas: Personas) -> None:
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    project = create(drafter, personas)
    with pytest.raises(PermissionDenied):
        project_transition(actor=huli_finance, project=project, to=S.IN_APPROVAL, now=NOW)
    # The city finance officer's scope covers every branch below the city.
    project_transition(actor=personas.finance, project=project, to=S.IN_APPROVAL, now=NOW)
    assert project.status == S.IN_APPROVAL


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_fen": 0}, "target_fen"),
        ({"target_fen": -100}, "target_fen"),
        ({"target_fen": 100.0}, "target_fen"),
        ({"cost_fen": -1}, "cost_fen"),
        ({"end_date": TODAY - timedelta(days=1)}, "end_date"),
        ({"channels": ["paypal"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"title": "  "}, "title"),
        ({"leftover_handling": ""}, "leftover_handling"),
        ({"area": "x" * 201}, "area"),
    ],
)
def test_bad_plans_are_refused_with_a_clear_error_and_nothing_saved(
    drafter: User, personas: Personas, overrides: dict[str, Any], field: str
) -> None:
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        create(drafter, personas, **overrides)
    assert field in exc.value.message_dict
    assert not FundraisingProject.objects.exists()
    assert not ProjectEvent.objects.exists()
    assert AuditEvent.objects.count() == audits


def test_co_initiators_get_unique_url_safe_attribution_codes(drafter: User, personas: Personas) -> None:
    project = create(drafter, personas)
    codes = {
        coinitiator_add(
            actor=drafter,
            project=project,
            organisation_name=f"合作机构{i}",
            assessment_note="已核查登记证书与年检",
            role="合作发起",
            now=NOW,
        ).attribution_code
        for i in range(20)
    }
    assert len(codes) == 20
    assert all(len(c) == 16 and c.replace("-", "").replace("_", "").isalnum() and c.isascii() for c in codes)
    assert AuditEvent.objects.filter(action="funds.project.coinitiator_add").count() == 20


def test_a_co_initiator_needs_a_name_an_assessment_and_a_role(drafter: User, personas: Personas) -> None:
    project = create(drafter, personas)
    with pytest.raises(ValidationError) as exc:
        coinitiator_add(actor=drafter, project=project, organisation_name="", assessment_note=" ", role="")
    assert set(exc.value.message_dict) == {"organisation_name", "assessment_note", "role"}
    assert not CoInitiator.objects.exists()
