from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import User
from rendao.recipients.models import Institution, Need
from rendao.recipients.services import need_withdraw

from .conftest import make_need

pytestmark = pytest.mark.django_db
EN: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_only_open_needs_show_without_personal_data(
    personas: Personas, school: Institution, representative: User
) -> None:
    shown = make_need(representative, school, item_name="书包")
    withdrawn = make_need(representative, school, item_name="课桌")
    need_withdraw(actor=representative, need=withdrawn)
    # A need whose deadline passed (published earlier) is no longer shown.
    Need.objects.create(
        institution=school,
        item_name="过期物资",
        unit="个",
        quantity=1,
        deadline=timezone.localdate() - timedelta(days=1),
        purpose="-",
        published_by=representative,
    )
    page = Client().get(reverse("recipients:needs"), **EN).content.decode()
    assert shown.item_name in page
    assert school.name in page
    assert "School" in page
    assert "课桌" not in page
    assert "过期物资" not in page
    for personal in ("王老师", "13912345678", "139****5678", "13700137000", representative.username):
        assert personal not in page


def test_the_api_lists_open_needs_paginated(
    personas: Personas, school: Institution, representative: User
) -> None:
    for n in range(3):
        make_need(
            representative,
            school,
            item_name=f"物资{n}",
            deadline=timezone.localdate() + timedelta(days=n + 1),
        )
    body = Client().get("/api/v1/needs?limit=2").json()
    assert body["count"] == 3
    assert [i["item_name"] for i in body["items"]] == ["物资0", "物资1"]
    assert body["items"][0]["institution"] == school.name
    assert set(body["items"][0]) == {
        "id",
        "institution",
        "institution_kind",
        "item_name",
        "specification",
        "unit",
        "quantity",
        "quantity_received",
        "deadline",
        "purpose",
        "published_at",
    }
    assert Client().get("/api/v1/needs?limit=0").status_code == 422


def test_anonymous_visitors_get_a_briefly_cached_page(
    personas: Personas, school: Institution, representative: User
) -> None:
    first = Client().get(reverse("recipients:needs"), **EN)
    make_need(representative, school, item_name="新需求")
    assert "新需求" not in Client().get(reverse("recipients:needs"), **EN).content.decode()
    assert first.status_code == 200
    assert Client().get(reverse("recipients:needs") + "?page=0").status_code == 404


def test_the_page_reads_a_constant_number_of_rows(
    personas: Personas, school: Institution, representative: User
) -> None:
    make_need(representative, school)
    client = signed_in_client(personas.public)
    client.get(reverse("recipients:needs"))  # warm the session and the user
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("recipients:needs"), **EN)
    for n in range(10):
        make_need(representative, school, item_name=f"物资{n}")
    with CaptureQueriesContext(connection) as eleven:
        page = client.get(reverse("recipients:needs"), **EN)
    assert "物资9" in page.content.decode()
    assert len(eleven.captured_queries) == len(one.captured_queries)
