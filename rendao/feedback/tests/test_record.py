from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from rendao.feedback.models import UseKind
from rendao.funds.models import FundraisingProject

from .conftest import paid, record_use

pytestmark = pytest.mark.django_db


def test_the_pdf_record_opens_and_lists_the_uses(project: FundraisingProject) -> None:
    donation = paid(project, donor_name="张三明")
    money = record_use(project, amount_fen=300_000, recipient="莲花小学", purpose="采购书包")
    goods = record_use(
        project, kind=UseKind.GOODS, items="书包 × 200 个", amount_fen=80_000, recipient="禾山街道"
    )
    response = Client().get(reverse("feedback:record_pdf", kwargs={"token": donation.follow_token}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (donation.out_trade_no, "¥3,000.00", "莲花小学", "禾山街道", "采购书包", project.title):
        assert expected in text, expected
    assert str(money.ledger_index) in text
    assert str(goods.ledger_index) in text
    assert "张三明" not in text


def test_the_json_record_adds_up(project: FundraisingProject) -> None:
    donation = paid(project, amount_fen=50_000)
    record_use(project, amount_fen=20_000)
    record_use(project, amount_fen=7_000)
    record_use(project, kind=UseKind.GOODS, items="口罩 × 10 盒", amount_fen=3_000)
    response = Client().get(reverse("feedback:record_json", kwargs={"token": donation.follow_token}))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["donation"]["out_trade_no"] == donation.out_trade_no
    assert data["donation"]["amount_fen"] == 50_000
    assert data["donation"]["commitment"] == donation.commitment
    uses = data["uses"]
    assert len(uses) == 3
    assert data["uses_money_fen"] == sum(u["amount_fen"] for u in uses if u["kind"] == "money") == 27_000
    assert data["uses_goods_value_fen"] == 3_000
    totals = data["project_totals"]
    project.refresh_from_db()
    assert totals["raised_fen"] == project.raised_fen == 50_000
    assert totals["used_fen"] == 27_000
    # The fixture's uses are not posted to the journal, so the fund still holds what was raised.
    assert totals["balance_fen"] == 50_000
    assert all(isinstance(u["ledger_index"], int) for u in uses)


def test_unknown_or_unpaid_donations_have_no_record(project: FundraisingProject) -> None:
    from rendao.funds.tests.factories import donate

    unpaid = donate(project)
    assert (
        Client().get(reverse("feedback:record_json", kwargs={"token": unpaid.follow_token})).status_code
        == 404
    )
    assert Client().get(reverse("feedback:record_pdf", kwargs={"token": "x" * 43})).status_code == 404
    assert Client().get(reverse("feedback:record_pdf", kwargs={"token": "short"})).status_code == 404
