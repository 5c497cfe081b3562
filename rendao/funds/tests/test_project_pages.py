"""The staff pages of fundraising projects: list, plan form, detail, moves and co-initiators."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rendao.approvals.models import ApprovalRequest
from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.models import AuditEvent, Role, User
from rendao.funds.models import CoInitiator, FundraisingProject, ProjectStatus
from rendao.funds.projects import project_create, project_transition

pytestmark = pytest.mark.django_db
S = ProjectStatus


def english(user: User) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def plan_kwargs(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "title": "思明区助学募捐",
        "purpose": "资助困难学生",
        "start_date": today - timedelta(days=1),
        "end_date": today + timedelta(days=60),
        "area": "厦门市思明区",
        "responsible_name": "项目负责人",
        "responsible_office_address": "厦门市思明区某路1号",
        "channels": ["sandbox"],
        "bank_account": "基本户 0000",
        "beneficiaries": "困难家庭学生",
        "intended_use": "学费",
        "cost_fen": 0,
        "leftover_handling": "转入同类项目",
        "target_fen": 10_000_000,
    }
    values.update(overrides)
    return values


def make_project(personas: Personas, *, branch: Any = None, **overrides: Any) -> FundraisingProject:
    return project_create(
        actor=personas.finance, branch=branch or personas.tree.siming, **plan_kwargs(**overrides)
    )


def with_status(project: FundraisingProject, status: ProjectStatus) -> FundraisingProject:
    # Set directly: the lifecycle itself is tested in test_projects.py.
    FundraisingProject.objects.filter(pk=project.pk).update(status=status)
    project.refresh_from_db()
    return project


def form_post(personas: Personas, **overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "branch": personas.tree.siming.pk,
        "title": "网页募捐",
        "purpose": "目的",
        "start_date": str(today),
        "end_date": str(today + timedelta(days=30)),
        "area": "思明区",
        "responsible_name": "负责人",
        "responsible_office_address": "办公室",
        "channels": ["sandbox", "wechatpay"],
        "bank_account": "基本户",
        "beneficiaries": "受益人",
        "intended_use": "用途",
        "cost_fen": "12.30",
        "leftover_handling": "转入同类项目",
        "target_fen": "100000.05",
    }
    data.update(overrides)
    return data


def snapshot(project: FundraisingProject) -> tuple[Any, ...]:
    project.refresh_from_db()
    return (
        project.status,
        project.filing_number,
        project.filed_on,
        project.events.count(),
        project.co_initiators.count(),
        AuditEvent.objects.count(),
    )


# --- list ----------------------------------------------------------------------------


def _list_queries(client: Client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("funds:project_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_list_shows_projects_in_scope_in_constant_queries(personas: Personas) -> None:
    make_project(personas, title="first")
    client = signed_in_client(personas.auditor)
    few, page = _list_queries(client)
    assert "first" in page
    for i in range(8):
        make_project(personas, branch=personas.tree.huli, title=f"more {i}")
    many, page = _list_queries(client)
    assert "more 7" in page
    assert many == few


def test_the_list_leaves_out_projects_of_other_districts(personas: Personas) -> None:
    make_project(personas, title="思明项目")
    make_project(personas, branch=personas.tree.huli, title="湖里项目")
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    page = signed_in_client(huli_finance).get(reverse("funds:project_list")).content.decode()
    assert "湖里项目" in page
    assert "思明项目" not in page


def test_the_staff_menu_links_projects_for_finance_roles_only(personas: Personas) -> None:
    url = reverse("funds:project_list")
    assert url in signed_in_client(personas.leader).get(reverse("approvals:inbox")).content.decode()
    assert url not in signed_in_client(personas.siming_staff).get(reverse("approvals:inbox")).content.decode()


# --- create ----------------------------------------------------------------------------


def test_a_plan_entered_in_yuan_is_saved_as_a_draft_in_whole_fen(personas: Personas) -> None:
    response = english(personas.finance).post(reverse("funds:project_create"), form_post(personas))
    project = FundraisingProject.objects.get(title="网页募捐")
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:project_detail", kwargs={"pk": project.pk})
    assert project.target_fen == 10_000_005
    assert project.cost_fen == 1_230
    assert project.status == S.DRAFT
    assert project.channels == ["sandbox", "wechatpay"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"target_fen": "1.005"}, "target_fen", "Ensure that there are no more than 2 decimal places."),
        ({"target_fen": "abc"}, "target_fen", "Enter a number."),
        ({"target_fen": "0"}, "target_fen", "The target amount must be above zero"),
        ({"cost_fen": "-1"}, "cost_fen", "Ensure this value is greater than or equal to 0."),
        ({"title": "   "}, "title", "This field is required."),
        ({"end_date": "2000-01-01"}, "end_date", "The end date cannot be before the start date."),
        ({"channels": ["paypal"]}, "channels", "Select a valid choice."),
        ({"branch": "999999"}, "branch", "Select a valid choice."),
    ],
)
def test_a_bad_plan_is_refused_with_a_clear_error_and_nothing_saved(
    personas: Personas, overrides: dict[str, Any], field: str, message: str
) -> None:
    audit = AuditEvent.objects.count()
    response = english(personas.finance).post(
        reverse("funds:project_create"), form_post(personas, **overrides)
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert message.split("%")[0] in response.content.decode().replace("&#x27;", "'")
    assert not FundraisingProject.objects.exists()
    assert AuditEvent.objects.count() == audit


def test_a_plan_cannot_be_drafted_at_a_branch_out_of_scope(personas: Personas) -> None:
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    response = english(huli_finance).post(reverse("funds:project_create"), form_post(personas))
    assert response.status_code == 400
    assert "branch" in response.context["form"].errors
    assert not FundraisingProject.objects.exists()


def test_roles_without_finance_manage_cannot_open_the_plan_form(personas: Personas) -> None:
    assert signed_in_client(personas.auditor).get(reverse("funds:project_create")).status_code == 403
    response = signed_in_client(personas.auditor).post(reverse("funds:project_create"), form_post(personas))
    assert response.status_code == 403
    assert not FundraisingProject.objects.exists()


# --- detail and moves -------------------------------------------------------------------


def test_the_detail_page_shows_the_plan_the_timeline_and_the_approval_item(personas: Personas) -> None:
    project = make_project(personas, target_fen=12_345_678)
    project_transition(actor=personas.finance, project=project, to=S.IN_APPROVAL)
    item = ApprovalRequest.objects.get(process_type="fundraising_plan", object_id=project.pk)
    page = english(personas.auditor).get(reverse("funds:project_detail", kwargs={"pk": project.pk}))
    content = page.content.decode()
    assert page.status_code == 200
    assert "¥123,456.78" in content
    assert "In approval" in content
    assert reverse("approvals:detail", kwargs={"pk": item.pk}) in content
    # The auditor reads only: no buttons, no forms.
    assert reverse("funds:project_transition", kwargs={"pk": project.pk}) not in content
    assert reverse("funds:coinitiator_add", kwargs={"pk": project.pk}) not in content


def test_a_project_out_of_scope_is_not_found(personas: Personas) -> None:
    project = make_project(personas)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    client = signed_in_client(huli_finance)
    before = snapshot(project)
    for name, method, data in [
        ("funds:project_detail", "get", {}),
        ("funds:project_transition", "post", {"to": "in_approval"}),
        ("funds:coinitiator_add", "post", {"organisation_name": "x", "assessment_note": "y", "role": "z"}),
    ]:
        url = reverse(name, kwargs={"pk": project.pk})
        response = client.post(url, data) if method == "post" else client.get(url)
        assert response.status_code == 404, name
    assert snapshot(project) == before


def test_submitting_a_draft_for_approval_through_the_page(personas: Personas) -> None:
    project = make_project(personas)
    url = reverse("funds:project_transition", kwargs={"pk": project.pk})
    assert (
        url
        in english(personas.finance)
        .get(reverse("funds:project_detail", kwargs={"pk": project.pk}))
        .content.decode()
    )
    response = english(personas.finance).post(url, {"to": "in_approval"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == S.IN_APPROVAL
    assert ApprovalRequest.objects.filter(object_id=project.pk, process_type="fundraising_plan").exists()


def test_filing_opening_closing_and_publishing_through_the_page(personas: Personas) -> None:
    project = with_status(make_project(personas), S.APPROVED)
    client = english(personas.finance)
    url = reverse("funds:project_transition", kwargs={"pk": project.pk})
    today = timezone.localdate()
    assert (
        client.post(
            url, {"to": "filed", "filing_number": "闽民募 2026-1", "filed_on": str(today)}
        ).status_code
        == 302
    )
    for to in ("open", "closed", "final_report_published"):
        assert client.post(url, {"to": to}).status_code == 302, to
    project.refresh_from_db()
    assert project.status == S.FINAL_REPORT_PUBLISHED
    assert project.filing_number == "闽民募 2026-1"
    assert [e.to_status for e in project.events.all()] == [
        "draft",
        "filed",
        "open",
        "closed",
        "final_report_published",
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"filing_number": "", "filed_on": "TODAY"}, "filing_number", "Give the filing number"),
        ({"filing_number": "N1", "filed_on": ""}, "filed_on", "Give the filing date."),
        (
            {"filing_number": "N1", "filed_on": "TOMORROW"},
            "filed_on",
            "The filing date cannot be in the future.",
        ),
        ({"filing_number": "N1", "filed_on": "not a date"}, "filed_on", "Enter a valid date."),
        ({"filing_number": "N" * 65, "filed_on": "TODAY"}, "filing_number", "at most 64 characters"),
    ],
)
def test_a_bad_filing_is_refused_with_a_clear_error_and_nothing_changed(
    personas: Personas, data: dict[str, str], field: str, message: str
) -> None:
    project = with_status(make_project(personas), S.APPROVED)
    before = snapshot(project)
    today = timezone.localdate()
    dates = {"TODAY": str(today), "TOMORROW": str(today + timedelta(days=1))}
    data = {k: dates.get(v, v) for k, v in data.items()}
    response = english(personas.finance).post(
        reverse("funds:project_transition", kwargs={"pk": project.pk}), {"to": "filed", **data}
    )
    assert response.status_code == 400
    form = response.context["filing_form"]
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode()
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("status", "to", "message"),
    [
        (S.DRAFT, "open", "cannot become"),
        (S.IN_APPROVAL, "approved", "Select a valid choice."),
        (S.APPROVED, "open", "The project must be filed before it opens"),
        (S.DRAFT, "nonsense", "Select a valid choice."),
    ],
)
def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(
    personas: Personas, status: ProjectStatus, to: str, message: str
) -> None:
    project = with_status(make_project(personas), status)
    before = snapshot(project)
    response = english(personas.finance).post(
        reverse("funds:project_transition", kwargs={"pk": project.pk}), {"to": to}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(project) == before


def test_a_reader_in_scope_may_not_move_a_project(personas: Personas) -> None:
    project = make_project(personas)
    before = snapshot(project)
    response = signed_in_client(personas.auditor).post(
        reverse("funds:project_transition", kwargs={"pk": project.pk}), {"to": "in_approval"}
    )
    assert response.status_code == 403
    assert snapshot(project) == before


# --- co-initiators ----------------------------------------------------------------------


def test_adding_a_co_initiator_through_the_page(personas: Personas) -> None:
    project = make_project(personas)
    response = english(personas.finance).post(
        reverse("funds:coinitiator_add", kwargs={"pk": project.pk}),
        {"organisation_name": "厦门某基金会", "assessment_note": "资质已核验", "role": "联合发起"},
    )
    assert response.status_code == 302
    co = CoInitiator.objects.get(project=project)
    page = english(personas.finance).get(reverse("funds:project_detail", kwargs={"pk": project.pk}))
    assert "厦门某基金会" in page.content.decode()
    assert co.attribution_code in page.content.decode()


def _pdf() -> bytes:
    from rendao.funds.receipts.pdf import ReceiptData, receipt_pdf

    # A real PDF without active content: one of our own receipts will do.
    return receipt_pdf(
        ReceiptData(
            number="350203-2026-000001",
            issued_on=date(2026, 6, 1),
            organisation="思明区红十字会",
            project="测试",
            handled_by="沙箱",
            amount_fen=100,
            verification_url="https://example.org/r/1/",
            anonymous=True,
        )
    )


def test_a_co_initiator_is_added_with_its_written_agreement(personas: Personas) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = make_project(personas)
    upload = SimpleUploadedFile("agreement.pdf", _pdf(), content_type="application/pdf")
    response = english(personas.finance).post(
        reverse("funds:coinitiator_add", kwargs={"pk": project.pk}),
        {
            "organisation_name": "厦门某基金会",
            "assessment_note": "资质已核验",
            "role": "联合发起",
            "agreement": upload,
        },
    )
    assert response.status_code == 302
    co = CoInitiator.objects.get(project=project)
    assert co.agreement is not None
    assert co.agreement.purpose == "coinitiator_agreement"
    assert co.agreement.branch_id == project.branch_id
    page = english(personas.finance).get(reverse("funds:project_detail", kwargs={"pk": project.pk}))
    assert f"/attachments/{co.agreement.pk}/" in page.content.decode()


def test_an_agreement_that_is_not_a_document_is_refused_and_nothing_is_saved(personas: Personas) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rendao.uploads.models import Attachment

    project = make_project(personas)
    before = snapshot(project)
    upload = SimpleUploadedFile("agreement.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = english(personas.finance).post(
        reverse("funds:coinitiator_add", kwargs={"pk": project.pk}),
        {
            "organisation_name": "厦门某基金会",
            "assessment_note": "资质已核验",
            "role": "联合发起",
            "agreement": upload,
        },
    )
    assert response.status_code == 400
    assert response.context["co_form"].errors["agreement"]
    assert snapshot(project) == before
    assert not CoInitiator.objects.exists()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"organisation_name": "", "assessment_note": "ok", "role": "r"},
            "organisation_name",
            "This field is required.",
        ),
        (
            {"organisation_name": "org", "assessment_note": "  ", "role": "r"},
            "assessment_note",
            "This field is required.",
        ),
        (
            {"organisation_name": "org", "assessment_note": "ok", "role": "r" * 101},
            "role",
            "at most 100 characters",
        ),
    ],
)
def test_a_bad_co_initiator_is_refused_with_a_clear_error_and_nothing_saved(
    personas: Personas, data: dict[str, str], field: str, message: str
) -> None:
    project = make_project(personas)
    before = snapshot(project)
    response = english(personas.finance).post(
        reverse("funds:coinitiator_add", kwargs={"pk": project.pk}), data
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["co_form"].errors[field])
    assert snapshot(project) == before


def test_a_closed_project_takes_no_co_initiator_through_the_page(personas: Personas) -> None:
    project = with_status(make_project(personas), S.CLOSED)
    before = snapshot(project)
    response = english(personas.finance).post(
        reverse("funds:coinitiator_add", kwargs={"pk": project.pk}),
        {"organisation_name": "org", "assessment_note": "ok", "role": "r"},
    )
    assert response.status_code == 400
    assert "A closed project takes no new co-initiators." in response.content.decode()
    assert snapshot(project) == before


# --- changing a draft plan ----------------------------------------------------------------


def test_a_draft_plan_is_changed_through_the_same_form_and_the_change_is_audited(personas: Personas) -> None:
    project = make_project(personas)
    url = reverse("funds:project_edit", kwargs={"pk": project.pk})
    page = english(personas.finance).get(url)
    assert page.status_code == 200
    assert "思明区助学募捐" in page.content.decode()
    response = english(personas.finance).post(
        url, form_post(personas, title="改名后的项目", target_fen="200")
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.title, project.target_fen, project.cost_fen) == ("改名后的项目", 20_000, 1_230)
    event = AuditEvent.objects.filter(action="funds.project.update").get()
    assert event.before is not None
    assert event.after is not None
    assert event.before["title"] == "思明区助学募捐"
    assert event.after["target_fen"] == 20_000


def test_a_bad_change_is_refused_and_the_draft_stays_as_it_was(personas: Personas) -> None:
    project = make_project(personas)
    before = (snapshot(project), project.title, project.target_fen)
    response = english(personas.finance).post(
        reverse("funds:project_edit", kwargs={"pk": project.pk}),
        form_post(personas, target_fen="-5", title="x"),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["target_fen"]
    project.refresh_from_db()
    assert (snapshot(project), project.title, project.target_fen) == before


def test_a_submitted_plan_cannot_be_changed(personas: Personas) -> None:
    from django.core.exceptions import ValidationError

    from rendao.funds.projects import project_update

    project = with_status(make_project(personas), S.IN_APPROVAL)
    response = english(personas.finance).post(
        reverse("funds:project_edit", kwargs={"pk": project.pk}), form_post(personas, title="偷改")
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "思明区助学募捐"
    with pytest.raises(ValidationError, match="Only a draft plan can be changed"):
        project_update(actor=personas.finance, project=project, **plan_kwargs(title="偷改"))


def test_staff_without_finance_rights_cannot_change_a_plan(personas: Personas) -> None:
    project = make_project(personas)
    before = snapshot(project)
    url = reverse("funds:project_edit", kwargs={"pk": project.pk})
    assert signed_in_client(personas.auditor).post(url, form_post(personas, title="x")).status_code == 403
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    assert signed_in_client(huli_finance).get(url).status_code == 404
    assert snapshot(project) == before
