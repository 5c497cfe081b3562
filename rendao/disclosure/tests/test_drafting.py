"""Drafting from the data: figures from rendao.disclosure.figures, exact fen parsing of typed figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.models import Role
from rendao.disclosure.drafting import draft_from_data, drafted_content
from rendao.disclosure.forms import figure_lines, parse_figure_lines
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.funds.models import FundraisingProject
from rendao.funds.tests.factories import donate, open_project, pay

# --- typed figures: exact fen, no database --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("received = 12500", {"received": 1_250_000}),
        ("received = 12,500.5", {"received": 1_250_050}),
        ("received = 0.01\n\n  spent=0.10  ", {"received": 1, "spent": 10}),
        ("adjustment = -3.07", {"adjustment": -307}),
        ("paid_out:charitable = 1.00", {"paid_out:charitable": 100}),
        ("a = b = 2", {"a = b": 200}),
        ("", {}),
    ],
)
def test_typed_figures_become_exact_fen(text: str, expected: dict[str, int]) -> None:
    assert parse_figure_lines(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("received = 1.005", "at most two decimals"),
        ("received = 0.100", "at most two decimals"),
        ("received = 1e3", "not an amount"),
        ("received = NaN", "not an amount"),
        ("received = ¥12", "not an amount"),
        ("received = 1,25", "not an amount"),
        ("received =", "not an amount"),
        ("= 12", "label = amount"),
        ("no equals sign", "label = amount"),
        ("x = 1\nx = 2", "given twice"),
        ("x" * 101 + " = 1", "too long"),
    ],
)
def test_bad_typed_figures_are_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        parse_figure_lines(text)
    assert "Line " in caught.value.messages[0]


@pytest.mark.parametrize("figures", [{}, {"received": 1_250_000, "refunded": 0, "adjustment": -307, "x": 5}])
def test_figure_lines_round_trip(figures: dict[str, int]) -> None:
    assert parse_figure_lines(figure_lines(figures)) == figures


# --- drafting from the data -----------------------------------------------------------


def _funded_project(personas: Personas) -> FundraisingProject:
    project = open_project(personas.tree.siming, personas.finance, title="爱心小书包")
    for amount in (10_000, 25_000):
        pay(donate(project, amount_fen=amount))
    return project


def _period() -> dict[str, Any]:
    today = timezone.localdate()
    return {"period_start": today - timedelta(days=30), "period_end": today}


@pytest.mark.django_db
def test_draft_from_data_fills_in_the_projects_figures_and_an_editable_text(personas: Personas) -> None:
    project = _funded_project(personas)
    d = draft_from_data(personas.finance, personas.tree.siming, project, "progress_quarterly", **_period())
    assert d.status == DisclosureStatus.DRAFT
    assert d.project == project
    assert d.figures["received"] == 35_000
    assert d.figures["refunded"] == 0
    assert d.figures["net_income"] == 35_000
    assert d.figures["paid_out"] == 0
    assert all(type(v) is int for v in d.figures.values())
    assert d.title.startswith("爱心小书包 — ")
    assert str(_period()["period_start"]) in d.title
    assert "¥350.00" in d.body
    assert d.created_by == personas.finance


@pytest.mark.django_db
def test_a_period_without_donations_drafts_zeroes(personas: Personas) -> None:
    project = _funded_project(personas)
    today = timezone.localdate()
    d = draft_from_data(
        personas.finance,
        personas.tree.siming,
        project,
        "progress_quarterly",
        today - timedelta(days=400),
        today - timedelta(days=300),
    )
    assert d.figures["received"] == 0


@pytest.mark.django_db
def test_annual_report_uses_the_branch_subtree_figures(personas: Personas) -> None:
    project = _funded_project(personas)
    other = open_project(personas.tree.huli, personas.finance, title="湖里项目")
    pay(donate(other, amount_fen=7_000))
    drafted = drafted_content(branch=personas.tree.city, project=project, kind="annual_report", **_period())
    assert drafted.project is None
    assert drafted.figures["received"] == 42_000
    assert drafted.title.startswith(personas.tree.city.name)
    siming_only = drafted_content(
        branch=personas.tree.siming, project=None, kind="annual_report", **_period()
    )
    assert siming_only.figures["received"] == 35_000


@pytest.mark.django_db
def test_draft_from_data_checks_scope_and_the_period(personas: Personas) -> None:
    project = _funded_project(personas)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    with pytest.raises(PermissionDenied):
        draft_from_data(huli_finance, personas.tree.siming, project, "progress_quarterly", **_period())
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        draft_from_data(
            personas.finance,
            personas.tree.siming,
            project,
            "progress_quarterly",
            today,
            today - timedelta(days=1),
        )
    with pytest.raises(ValidationError, match="does not belong"):
        draft_from_data(personas.finance, personas.tree.huli, project, "progress_quarterly", **_period())
    assert not Disclosure.objects.exists()


def _staff(personas: Personas) -> Client:
    client = signed_in_client(personas.finance)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.django_db
def test_the_new_page_prefills_from_the_calendars_parameters(personas: Personas) -> None:
    project = _funded_project(personas)
    period = _period()
    response = _staff(personas).get(
        reverse("disclosure:staff_create"),
        {
            "kind": "progress_quarterly",
            "project": project.pk,
            "start": period["period_start"].isoformat(),
            "end": period["period_end"].isoformat(),
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["branch"] == personas.tree.siming.pk
    assert form.initial["project"] == project.pk
    assert form.initial["figures"]["received"] == 35_000
    page = response.content.decode()
    assert "received = 350.00" in page
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"kind": "progress_quarterly", "start": "2026-09-30", "end": "2026-07-01"},
        {"kind": "tea_party", "start": "2026-07-01", "end": "2026-09-30"},
        {"kind": "progress_quarterly", "project": "999999", "start": "2026-07-01", "end": "2026-09-30"},
        {"kind": "progress_quarterly", "start": "someday", "end": "2026-09-30"},
    ],
)
def test_the_new_page_with_bad_parameters_says_why(personas: Personas, params: dict[str, str]) -> None:
    response = _staff(personas).get(reverse("disclosure:staff_create"), params)
    assert response.status_code == 400
    assert "could not be drafted from the data" in response.content.decode()
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_draft_from_data_through_the_api(personas: Personas) -> None:
    import json

    from rendao.core.audit import RequestMeta
    from rendao.core.services.tokens import token_create

    project = _funded_project(personas)
    _token, plaintext = token_create(actor=personas.finance, name="t", meta=RequestMeta())
    api = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")
    period = _period()
    payload = {
        "branch_id": personas.tree.siming.pk,
        "project_id": project.pk,
        "kind": "progress_quarterly",
        "period_start": period["period_start"].isoformat(),
        "period_end": period["period_end"].isoformat(),
    }
    response = api.post(
        "/api/v1/staff/disclosures/from-data", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["figures"]["received"] == 35_000
    reversed_period = {
        **payload,
        "period_start": payload["period_end"],
        "period_end": payload["period_start"],
    }
    bad = api.post(
        "/api/v1/staff/disclosures/from-data", json.dumps(reversed_period), content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"
    assert Disclosure.objects.count() == 1
