from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.recipients.models import Institution, InstitutionMember

from .conftest import CREDIT_CODE, make_institution

pytestmark = pytest.mark.django_db
EN: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _form(personas: Personas, **fields: str) -> dict[str, str]:
    data = {
        "branch": str(personas.tree.siming.pk),
        "name": "嘉莲社区卫生服务中心",
        "kind": "hospital",
        "credit_code": CREDIT_CODE,
        "contact_name": "李医生",
        "contact_mobile": "13912345678",
        "related_party_note": "",
    }
    data.update(fields)
    return data


def test_staff_create_an_institution_from_the_form(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    response = client.post(reverse("recipients:institution_create"), _form(personas), **EN)
    assert response.status_code == 302
    Institution.objects.get()
    detail = client.get(response["Location"], **EN)
    assert detail.status_code == 200
    assert "139****5678" in detail.content.decode()
    assert "13912345678" not in detail.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"credit_code": "91110000600037341X"}, "unified social credit code"),
        ({"contact_mobile": "555"}, "mainland China mobile number"),
        ({"related_party": "on"}, "related to the society"),
        ({"kind": "bank"}, "valid choice"),
    ],
)
def test_bad_input_is_shown_on_the_form(personas: Personas, fields: dict[str, str], message: str) -> None:
    client = signed_in_client(personas.siming_staff)
    response = client.post(reverse("recipients:institution_create"), _form(personas, **fields), **EN)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Institution.objects.exists()


def test_a_duplicate_name_is_shown_on_the_form(personas: Personas) -> None:
    make_institution(personas, name="嘉莲社区卫生服务中心")
    client = signed_in_client(personas.siming_staff)
    response = client.post(reverse("recipients:institution_create"), _form(personas), **EN)
    assert response.status_code == 400
    assert "already has an institution of that name" in response.content.decode()


def test_the_list_is_in_scope_filtered_and_masked(personas: Personas) -> None:
    siming = make_institution(personas, related_party=True, related_party_note="理事任职")
    huli = make_institution(personas, at="huli", kind="hospital")
    client = signed_in_client(personas.huli_staff)
    page = client.get(reverse("recipients:institution_list"), **EN).content.decode()
    assert huli.name in page
    assert siming.name not in page
    assert "139****5678" in page
    assert "13912345678" not in page
    assert client.get(reverse("recipients:institution_detail", args=[siming.pk]), **EN).status_code == 404
    city = signed_in_client(personas.city_staff)
    related = city.get(reverse("recipients:institution_list") + "?related=yes", **EN).content.decode()
    assert siming.name in related
    assert huli.name not in related
    hospitals = city.get(reverse("recipients:institution_list") + "?kind=hospital", **EN).content.decode()
    assert huli.name in hospitals
    assert siming.name not in hospitals


def test_roles_without_the_permission_are_refused(personas: Personas) -> None:
    for persona in (personas.reviewer, personas.auditor):
        response = signed_in_client(persona).get(reverse("recipients:institution_list"), **EN)
        assert response.status_code == 403


def test_members_are_added_from_the_detail_page(personas: Personas) -> None:
    institution = make_institution(personas)
    client = signed_in_client(personas.siming_staff)
    url = reverse("recipients:member_add", args=[institution.pk])
    response = client.post(url, {"mobile": "13611112222"}, follow=True, **EN)
    assert "sign in once" in response.content.decode()
    client.post(url, {"mobile": "13800138000"}, **EN)
    assert InstitutionMember.objects.get().user == personas.public


def test_the_edit_form_keeps_the_number_and_records_the_flag(personas: Personas) -> None:
    institution = make_institution(personas)
    client = signed_in_client(personas.siming_staff)
    url = reverse("recipients:institution_edit", args=[institution.pk])
    assert client.get(url, **EN).status_code == 200
    data = _form(personas, name=institution.name, kind="school", contact_mobile="")
    data["related_party"] = "on"
    data["related_party_note"] = "理事兼任校长"
    assert client.post(url, data, **EN).status_code == 302
    institution.refresh_from_db()
    assert institution.related_party
    assert institution.contact_mobile == "+8613912345678"


def test_the_api_lists_creates_and_refuses_bad_input(personas: Personas) -> None:
    make_institution(personas, at="huli")
    client = signed_in_client(personas.siming_staff)
    body = {
        "branch_id": personas.tree.street.pk,
        "name": "嘉莲小学",
        "kind": "school",
        "contact_mobile": "13912345678",
    }
    created = client.post("/api/v1/staff/institutions", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["contact_mobile_masked"] == "139****5678"
    listed = client.get("/api/v1/staff/institutions").json()
    assert [i["name"] for i in listed["items"]] == ["嘉莲小学"]
    detail = client.get(f"/api/v1/staff/institutions/{created.json()['id']}")
    assert detail.status_code == 200
    bad = client.post(
        "/api/v1/staff/institutions",
        json.dumps({**body, "name": "另一所", "credit_code": "123"}),
        content_type="application/json",
        **EN,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["body", "credit_code"]
    other = client.post(
        "/api/v1/staff/institutions",
        json.dumps({**body, "branch_id": personas.tree.huli.pk}),
        content_type="application/json",
    )
    assert other.status_code == 404
    assert Institution.objects.count() == 2


def test_a_public_user_sees_no_institutions_through_the_api(personas: Personas) -> None:
    make_institution(personas)
    client = signed_in_client(personas.public, verified=False)
    assert client.get("/api/v1/staff/institutions").json()["items"] == []


def test_the_list_reads_a_constant_number_of_rows(personas: Personas) -> None:
    make_institution(personas)
    client = signed_in_client(personas.siming_staff)
    client.get(reverse("recipients:institution_list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("recipients:institution_list"), **EN)
    for n in range(10):
        make_institution(personas, name=f"社区{n}")
    with CaptureQueriesContext(connection) as eleven:
        client.get(reverse("recipients:institution_list"), **EN)
    assert len(eleven.captured_queries) == len(one.captured_queries)
