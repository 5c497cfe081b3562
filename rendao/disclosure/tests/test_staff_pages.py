"""The staff disclosure pages: list and filters, draft, edit, submit, correct; bad input on each."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rendao.approvals.models import ApprovalRequest, Outcome
from rendao.approvals.services import request_decide
from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.models import Role
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.services import disclosure_publish, disclosure_submit
from rendao.disclosure.tests.helpers import draft
from rendao.ledger.models import Entry

pytestmark = pytest.mark.django_db
S = DisclosureStatus


def staff(user: Any) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def url(name: str, d: Disclosure | None = None) -> str:
    return reverse(f"disclosure:staff_{name}", kwargs={"pk": d.pk} if d else None)


def state() -> tuple[Any, ...]:
    return (
        list(
            Disclosure.objects.order_by("pk").values_list(
                "status", "version", "title", "body", "figures", "period_start", "period_end", "kind"
            )
        ),
        ApprovalRequest.objects.count(),
        Entry.objects.count(),
    )


def form_data(personas: Personas, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "branch": personas.tree.city.pk,
        "project": "",
        "kind": "progress_quarterly",
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "title": "爱心小书包 第三季度进展",
        "body": "本季度发放书包 120 个。",
        "figures": "received = 12,500.00\nspent = 9800.5\n\nrefunded = 0",
    }
    data.update(changes)
    return data


def test_create_saves_a_draft_with_figures_converted_exactly_to_fen(personas: Personas) -> None:
    response = staff(personas.finance).post(url("create"), form_data(personas))
    d = Disclosure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", d)
    assert d.status == S.DRAFT
    assert d.figures == {"received": 1_250_000, "spent": 980_050, "refunded": 0}
    assert d.created_by == personas.finance


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "This field is required."),
        (
            {"period_start": "2026-09-30", "period_end": "2026-07-01"},
            "period_end",
            "cannot end before it starts",
        ),
        ({"figures": "received = 1.005"}, "figures", "at most two decimals"),
        ({"figures": "received = 1e5"}, "figures", "is not an amount in yuan"),
        ({"figures": "received = 12 yuan"}, "figures", "is not an amount in yuan"),
        ({"figures": "just a line"}, "figures", "label = amount in yuan"),
        ({"figures": "a = 1\na = 2"}, "figures", "given twice"),
        ({"figures": "received = 99999999999999"}, "figures", "implausibly large"),
        ({"kind": "tea_party"}, "kind", "Select a valid choice"),
        ({"period_end": "2026-02-30"}, "period_end", "Enter a valid date"),
    ],
)
def test_create_with_bad_input_is_refused_and_saves_nothing(
    personas: Personas, changes: dict[str, Any], field: str, message: str
) -> None:
    response = staff(personas.finance).post(url("create"), form_data(personas, **changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert not Disclosure.objects.exists()


def test_create_refuses_a_project_of_another_subtree(personas: Personas) -> None:
    from rendao.funds.tests.factories import open_project

    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    project = open_project(personas.tree.huli, huli_finance)
    response = staff(personas.finance).post(
        url("create"), form_data(personas, branch=personas.tree.siming.pk, project=project.pk)
    )
    assert response.status_code == 400
    assert "does not belong to this branch" in " ".join(response.context["form"].errors["project"])
    assert not Disclosure.objects.exists()


def test_create_is_forbidden_without_finance_manage(personas: Personas) -> None:
    for user in (personas.auditor, personas.city_staff):
        assert staff(user).get(url("create")).status_code == 403
        assert staff(user).post(url("create"), form_data(personas)).status_code == 403
    assert not Disclosure.objects.exists()


def test_list_shows_drafts_in_approval_and_published_with_filters(personas: Personas) -> None:
    a = draft(personas.finance, personas.tree.city, title="草稿甲")
    b = draft(personas.finance, personas.tree.city, title="审批中乙", kind="annual_report")
    disclosure_submit(actor=personas.finance, disclosure=b)
    c = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city, title="已公开丙")
    )
    client = staff(personas.finance)
    page = client.get(url("list")).content.decode()
    for d in (a, b, c):
        assert f'href="{url("detail", d)}"' in page
    only_published = client.get(url("list"), {"status": "published"}).content.decode()
    assert f'href="{url("detail", c)}"' in only_published
    assert f'href="{url("detail", a)}"' not in only_published
    annual = client.get(url("list"), {"kind": "annual_report"}).content.decode()
    assert f'href="{url("detail", b)}"' in annual
    assert f'href="{url("detail", a)}"' not in annual
    # An unknown filter value shows the form's error, not a crash.
    assert client.get(url("list"), {"status": "lost"}).status_code == 200
    assert client.get(url("list"), {"page": "0"}).status_code == 404


def test_list_is_scoped_to_the_staff_members_subtree(personas: Personas) -> None:
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    siming = draft(siming_finance, personas.tree.siming)
    page = staff(huli_finance).get(url("list")).content.decode()
    assert f'href="{url("detail", siming)}"' not in page
    assert staff(huli_finance).get(url("detail", siming)).status_code == 404
    assert staff(personas.public).get(url("list")).status_code in (302, 403)


def test_detail_shows_the_figures_in_yuan_and_the_versions(personas: Personas) -> None:
    first = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    response = staff(personas.finance).get(url("detail", first))
    page = response.content.decode()
    assert response.status_code == 200
    assert "¥12,500.00" in page
    assert "¥9,800.00" in page
    assert url("correct", first) in page
    assert url("edit", first) not in page


def test_edit_changes_a_draft(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    client = staff(personas.finance)
    form = client.get(url("edit", d))
    assert form.status_code == 200
    assert "received = 12500.00" in form.content.decode()
    data = form_data(personas, title="新标题", figures="received = 1.01")
    response = client.post(url("edit", d), data)
    assert response.status_code == 302
    d.refresh_from_db()
    assert (d.title, d.figures) == ("新标题", {"received": 101})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"period_start": "2026-10-01"}, "period_end"),
        ({"figures": "received = 0.001"}, "figures"),
        ({"body": ""}, "body"),
    ],
)
def test_edit_with_bad_input_changes_nothing(personas: Personas, changes: dict[str, Any], field: str) -> None:
    d = draft(personas.finance, personas.tree.city)
    before = state()
    response = staff(personas.finance).post(url("edit", d), form_data(personas, **changes))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert state() == before


def test_editing_a_published_or_pending_disclosure_is_refused(personas: Personas) -> None:
    published = disclosure_publish(
        actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city)
    )
    pending = draft(personas.finance, personas.tree.city)
    disclosure_submit(actor=personas.finance, disclosure=pending)
    client = staff(personas.finance)
    before = state()
    response = client.post(url("edit", published), form_data(personas, title="改写"))
    assert response.status_code == 400
    assert "cannot be edited" in " ".join(response.context["form"].non_field_errors())
    response = client.post(url("edit", pending), form_data(personas, title="改写"))
    assert response.status_code == 400
    assert "waiting for approval" in " ".join(response.context["form"].non_field_errors())
    assert client.get(url("edit", published)).status_code == 302
    assert state() == before


def test_submit_then_the_approver_reads_it_and_approves_it(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    response = staff(personas.finance).post(url("submit", d))
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == S.IN_APPROVAL
    request = ApprovalRequest.objects.get()
    # The approver holds no finance role, yet reads what they are asked to publish.
    approver = staff(personas.city_staff)
    page = approver.get(url("detail", d))
    assert page.status_code == 200
    assert reverse("approvals:detail", kwargs={"pk": request.pk}) in page.content.decode()
    decided = approver.post(
        reverse("approvals:decide", kwargs={"pk": request.pk}),
        {"outcome": "approve", "comment": "", "step": request.current_step_id},
    )
    assert decided.status_code == 302
    d.refresh_from_db()
    assert d.status == S.PUBLISHED
    assert d.published_by == personas.city_staff
    # Once decided, the approver still reads it (the engine shows them the item).
    assert approver.get(url("detail", d)).status_code == 200


def test_submitting_twice_or_a_published_one_says_why_and_changes_nothing(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    client = staff(personas.finance)
    client.post(url("submit", d))
    before = state()
    response = client.post(url("submit", d), follow=True)
    assert "already waiting for approval" in response.content.decode()
    assert state() == before
    assert client.get(url("submit", d)).status_code == 405


def test_submit_is_forbidden_to_read_only_and_approving_roles(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    for user in (personas.auditor, personas.city_staff):
        assert staff(user).post(url("submit", d)).status_code in (403, 404)
    d.refresh_from_db()
    assert d.status == S.DRAFT


def test_correct_creates_the_next_version_with_its_note(personas: Personas) -> None:
    first = draft(personas.finance, personas.tree.city)
    request = disclosure_submit(actor=personas.finance, disclosure=first)
    request_decide(actor=personas.city_staff, request=request, outcome=Outcome.APPROVE)
    client = staff(personas.finance)
    prefilled = client.get(url("correct", first)).content.decode()
    assert "received = 12500.00" in prefilled
    response = client.post(
        url("correct", first),
        {
            "title": "爱心小书包 第三季度进展（更正）",
            "body": "更正支出。",
            "figures": "received = 12500\nspent = 9900.00",
            "correction_note": "支出少计 100 元。",
        },
    )
    correction = Disclosure.objects.get(version=2)
    assert response.status_code == 302
    assert response["Location"] == url("detail", correction)
    assert correction.corrects_id == first.pk
    assert correction.figures == {"received": 1_250_000, "spent": 990_000}
    assert correction.status == S.DRAFT
    page = client.get(url("detail", correction)).content.decode()
    assert "支出少计 100 元。" in page
    assert f'href="{url("detail", first)}"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"correction_note": " "}, "correction_note", "This field is required."),
        ({"figures": "spent = 9900.123"}, "figures", "at most two decimals"),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_correct_with_bad_input_changes_nothing(
    personas: Personas, changes: dict[str, Any], field: str, message: str
) -> None:
    first = disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    before = state()
    data = {"title": "t", "body": "b", "figures": "spent = 1", "correction_note": "n", **changes}
    response = staff(personas.finance).post(url("correct", first), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert state() == before


def test_a_draft_cannot_be_corrected(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    before = state()
    response = staff(personas.finance).post(
        url("correct", d), {"title": "t", "body": "b", "figures": "", "correction_note": "n"}
    )
    assert response.status_code == 302
    assert state() == before
