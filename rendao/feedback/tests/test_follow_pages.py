from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.funds.models import FundraisingProject

from .conftest import paid, record_use

pytestmark = pytest.mark.django_db
EN: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_the_follow_page_shows_the_uses_since_the_donation(project: FundraisingProject) -> None:
    before = record_use(project, recipient="早先的机构")
    donation = paid(project)
    after = record_use(project, amount_fen=123_400, recipient="莲花小学", purpose="采购书包")
    page = Client().get(reverse("funds:donation_follow", kwargs={"token": donation.follow_token}), **EN)
    html = page.content.decode()
    assert "How it was used" in html
    assert "莲花小学" in html
    assert "¥1,234.00" in html
    assert "采购书包" in html
    assert f'data-index="{after.ledger_index}"' in html
    assert f'data-leaf-url="/api/v1/ledger/entries/{after.ledger_index}"' in html
    assert "早先的机构" not in html
    assert before.ledger_index != after.ledger_index
    assert reverse("feedback:record_pdf", kwargs={"token": donation.follow_token}) in html


def test_my_donations_show_the_uses_of_my_projects(project: FundraisingProject, personas: Personas) -> None:
    paid(project, user=personas.public)
    record_use(project, recipient="莲花小学")
    page = signed_in_client(personas.public).get(reverse("funds:give_mine"), **EN).content.decode()
    assert "How it was used" in page
    assert "莲花小学" in page
    other = signed_in_client(personas.volunteer).get(reverse("funds:give_mine"), **EN).content.decode()
    assert "莲花小学" not in other


def test_the_api_answers_the_uses_of_a_followed_donation(project: FundraisingProject) -> None:
    donation = paid(project)
    use = record_use(project, amount_fen=9_900)
    body = Client().get(f"/api/v1/donations/follow/{donation.follow_token}/uses").json()
    assert body["out_trade_no"] == donation.out_trade_no
    assert [u["ledger_index"] for u in body["uses"]] == [use.ledger_index]
    assert body["totals"]["used_fen"] == 9_900
    assert body["record_json_url"].endswith("/record.json")
    assert Client().get("/api/v1/donations/follow/" + "x" * 43 + "/uses").status_code == 404
