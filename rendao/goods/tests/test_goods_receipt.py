"""Goods receipts: the money receipts' gapless series, verification page, PDFs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.funds.receipting import receipt_issue
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.goods.models import DonorKind, GoodsReceipt
from rendao.goods.receipts import receipt_data
from rendao.goods.tests.factories import line, receive, warehouse

pytestmark = pytest.mark.django_db


def test_a_goods_receipt_takes_the_next_number_after_a_money_receipt(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.finance)
    donation = donate(project)
    pay(donation)
    money = receipt_issue(donation.pk)
    assert money is not None
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    intake = receive(personas.siming_staff, wh, line(quantity=10, unit_value_fen=1_000))
    goods = GoodsReceipt.objects.get(intake=intake)
    assert (goods.branch_code, goods.year) == (money.branch_code, money.year)
    assert goods.serial == money.serial + 1
    assert goods.value_fen == 10_000
    donation2 = donate(project)
    pay(donation2)
    money2 = receipt_issue(donation2.pk)
    assert money2 is not None
    assert money2.serial == goods.serial + 1


def test_the_verification_page_knows_a_goods_receipt_and_refuses_a_wrong_check(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    intake = receive(
        personas.siming_staff, wh, donor_kind=DonorKind.PERSON, organisation_name="", donor_name="王小明"
    )
    receipt = GoodsReceipt.objects.get(intake=intake)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("funds:receipt_verify", kwargs={"number": receipt.number, "check": receipt.check_code})
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "genuine" in text
    assert "矿泉水" in text
    assert intake.public_name in text
    assert "王小明" not in text
    wrong = reverse("funds:receipt_verify", kwargs={"number": receipt.number, "check": "00000000"})
    assert client.get(wrong).status_code == 404
    pdf = client.get(reverse("goods:receipt_public_pdf", args=[receipt.number, receipt.check_code]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert client.get(reverse("goods:receipt_public_pdf", args=[receipt.number, "BAD"])).status_code == 404


def test_the_copies_differ_in_name_and_salt(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    intake = receive(
        personas.siming_staff, wh, donor_kind=DonorKind.PERSON, organisation_name="", donor_name="王小明"
    )
    receipt = GoodsReceipt.objects.get(intake=intake)
    donor = receipt_data(receipt, copy="donor")
    public = receipt_data(receipt, copy="public")
    assert donor.donor_name == "王小明"
    assert donor.commitment_salt is not None
    assert public.donor_name == intake.public_name
    assert public.commitment_salt is None
    assert "矿泉水" in donor.goods_description


def test_staff_get_the_pdf_in_scope_only(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    intake = receive(personas.siming_staff, wh)
    url = reverse("goods:intake_receipt_pdf", kwargs={"pk": intake.pk})
    ok = signed_in_client(personas.siming_staff).get(url + "?copy=donor", HTTP_ACCEPT_LANGUAGE="en")
    assert ok.status_code == 200
    assert ok.content.startswith(b"%PDF")
    assert signed_in_client(personas.huli_staff).get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 404
    waived = receive(personas.siming_staff, wh, receipt_wanted=False)
    url = reverse("goods:intake_receipt_pdf", kwargs={"pk": waived.pk})
    assert signed_in_client(personas.siming_staff).get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 404
