"""The staff pages: list and filters, request form, payment, cancel, resolve, signed-form upload."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.disbursements import services
from rendao.disbursements.models import Disbursement, Payment, Signoff, SignoffKind, Status
from rendao.disbursements.tests.factories import (
    approved,
    fund,
    funded_project,
    make_payee,
    paid,
    request,
    world,
)
from rendao.funds.models import Account
from rendao.uploads.models import Attachment
from rendao.uploads.tests.files import elf, pdf, png

pytestmark = pytest.mark.django_db


def staff(user: Any) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def url(name: str, d: Disbursement | None = None) -> str:
    return reverse(f"disbursements:{name}", kwargs={"number": d.number} if d else None)


def state() -> tuple[Any, ...]:
    return (
        list(Disbursement.objects.order_by("pk").values_list("status", "paid_fen")),
        Payment.objects.count(),
        Signoff.objects.count(),
        Attachment.objects.count(),
        list(Account.objects.order_by("pk").values_list("balance_fen", "reserved_fen")),
    )


def test_the_list_shows_disbursements_in_scope_and_filters_them(
    personas: Personas, django_assert_max_num_queries: Any
) -> None:
    w = world(personas)
    mine = request(w, amount_fen=1_000)
    done = approved(w, amount_fen=2_000)
    huli_project = funded_project(personas.tree.huli, personas.finance, title="湖里项目")
    huli = services.disbursement_request(
        actor=personas.finance,
        fund=Account.objects.get(code=f"RF-{huli_project.pk}"),
        payee=make_payee(personas.tree.huli, name="湖里医院"),
        amount_fen=3_000,
        purpose="湖里",
        category="charitable",
        payee_bank_account="x",
    )
    client = staff(personas.finance)
    page = client.get(url("list")).content.decode()
    assert mine.number in page
    assert done.number in page
    assert huli.number in page
    page = client.get(url("list"), {"status": "approved"}).content.decode()
    assert done.number in page
    assert mine.number not in page
    page = client.get(url("list"), {"branch": personas.tree.huli.pk}).content.decode()
    assert huli.number in page
    assert mine.number not in page
    page = client.get(url("list"), {"project": w.project.pk}).content.decode()
    assert huli.number not in page
    assert mine.number in page
    # An invalid filter is ignored, not an error.
    assert client.get(url("list"), {"status": "nonsense"}).status_code == 200
    # The auditor reads; 思明's administrator (no finance role) may not.
    assert mine.number in staff(personas.auditor).get(url("list")).content.decode()
    assert staff(personas.siming_staff).get(url("list")).status_code == 403
    with django_assert_max_num_queries(20):
        client.get(url("list"))


def test_the_request_form_shows_what_is_available_and_reserves_exact_fen(personas: Personas) -> None:
    w = world(personas)
    request(w, amount_fen=100_000)
    client = staff(personas.finance)
    form = client.get(url("create")).content.decode()
    assert "¥9,000.00" in form  # 10,000 yuan less 1,000 reserved
    response = client.post(
        url("create"),
        {
            "fund": w.fund.pk,
            "payee": w.payee.pk,
            "amount_fen": "1234.56",
            "category": "charitable",
            "purpose": "采购轮椅",
            "payee_bank_account": "建设银行 0001",
            "documents": [SimpleUploadedFile("invoice.pdf", pdf(), "application/pdf")],
        },
    )
    assert response.status_code == 302
    d = Disbursement.objects.get(purpose="采购轮椅")
    assert response["Location"] == url("detail", d)
    assert d.amount_fen == 123_456
    assert d.documents.count() == 1
    assert fund(w).reserved_fen == 100_000 + 123_456


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_fen": "0"}, "amount_fen"),
        ({"amount_fen": "12.345"}, "amount_fen"),
        ({"amount_fen": "abc"}, "amount_fen"),
        ({"amount_fen": "10000.01"}, "amount_fen"),  # over what is available
        ({"purpose": ""}, "purpose"),
        ({"category": "other"}, "category"),
        ({"payee_bank_account": ""}, "payee_bank_account"),
        ({"fund": "999999"}, "fund"),
        ({"payee": "999999"}, "payee"),
        ({"documents": [SimpleUploadedFile("x.exe", elf(), "application/octet-stream")]}, "documents"),
    ],
)
def test_bad_request_input_is_shown_on_the_form_and_nothing_changes(
    personas: Personas, change: dict[str, Any], field: str
) -> None:
    w = world(personas)
    data: dict[str, Any] = {
        "fund": w.fund.pk,
        "payee": w.payee.pk,
        "amount_fen": "100.00",
        "category": "charitable",
        "purpose": "采购",
        "payee_bank_account": "0001",
    }
    data.update(change)
    before = state()
    response = staff(personas.finance).post(url("create"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert state() == before


def test_an_out_of_scope_fund_or_payee_is_not_offered(personas: Personas) -> None:
    w = world(personas)
    other = funded_project(personas.tree.huli, personas.finance, title="湖里项目")
    from rendao.conftest import make_staff
    from rendao.core.models import Role

    siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    huli_payee = make_payee(personas.tree.huli, name="湖里医院")
    client = staff(siming_finance)
    before = state()
    for change in ({"fund": Account.objects.get(code=f"RF-{other.pk}").pk}, {"payee": huli_payee.pk}):
        data = {
            "fund": w.fund.pk,
            "payee": w.payee.pk,
            "amount_fen": "1.00",
            "category": "charitable",
            "purpose": "x",
            "payee_bank_account": "y",
            **change,
        }
        assert client.post(url("create"), data).status_code == 400
    assert state() == before
    assert staff(personas.auditor).get(url("create")).status_code == 403


def test_payment_form_records_and_refuses_bad_input(personas: Personas) -> None:
    w = world(personas)
    d = approved(w, amount_fen=100_000)
    client = staff(personas.finance)
    before = state()
    for data in (
        {"bank_reference": "R1", "paid_on": "2026-01-01", "amount_fen": "1000.01"},
        {"bank_reference": "", "paid_on": "2026-01-01", "amount_fen": "1.00"},
        {"bank_reference": "R 1", "paid_on": "2026-01-01", "amount_fen": "1.00"},
        {"bank_reference": "R1", "paid_on": "2999-01-01", "amount_fen": "1.00"},
        {"bank_reference": "R1", "paid_on": "yesterday", "amount_fen": "1.00"},
        {"bank_reference": "R1", "paid_on": "2026-01-01", "amount_fen": "0"},
        {},
    ):
        assert client.post(url("pay", d), data).status_code == 400, data
    assert state() == before
    response = client.post(
        url("pay", d), {"bank_reference": "R1", "paid_on": "2026-01-01", "amount_fen": "400.00"}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert (d.status, d.paid_fen) == (Status.PARTLY_PAID, 40_000)
    # Auditors read but do not pay; other districts' staff do not even see it.
    assert (
        staff(personas.auditor)
        .post(url("pay", d), {"bank_reference": "R2", "paid_on": "2026-01-01", "amount_fen": "1.00"})
        .status_code
        == 403
    )
    assert staff(personas.huli_staff).get(url("detail", d)).status_code == 403


def test_cancel_form(personas: Personas) -> None:
    w = world(personas)
    d = approved(w)
    client = staff(personas.finance)
    assert client.post(url("cancel", d), {"reason": ""}).status_code == 400
    assert client.post(url("cancel", d), {"reason": "项目调整"}).status_code == 302
    d.refresh_from_db()
    assert d.status == Status.CANCELLED
    # Nothing left to cancel.
    assert client.post(url("cancel", d), {"reason": "again"}).status_code == 400


def test_resolve_form(personas: Personas) -> None:
    w = world(personas)
    d = paid(w)
    services.signoff_dispute(actor=w.representative, disbursement=d, note="没收到")
    client = staff(personas.finance)
    assert client.post(url("resolve", d), {"note": ""}).status_code == 400
    assert staff(personas.auditor).post(url("resolve", d), {"note": "x"}).status_code == 403
    assert client.post(url("resolve", d), {"note": "银行退回后重新汇出"}).status_code == 302
    d.refresh_from_db()
    assert d.status == Status.PAID


def test_staff_upload_of_the_signed_form_confirms_receipt(personas: Personas) -> None:
    w = world(personas)
    d = paid(w, amount_fen=100_000)
    client = staff(personas.finance)
    before = state()
    for data in (
        {"received_fen": "1000.00"},  # no file
        {
            "received_fen": "1000.00",
            "form_file": SimpleUploadedFile("a.exe", elf(), "application/octet-stream"),
        },
        {"received_fen": "999.00", "form_file": SimpleUploadedFile("a.png", png(), "image/png")},
        {"received_fen": "x", "form_file": SimpleUploadedFile("a.png", png(), "image/png")},
    ):
        assert client.post(url("signoff_upload", d), data).status_code == 400
    assert state() == before
    response = client.post(
        url("signoff_upload", d),
        {
            "received_fen": "1000.00",
            "note": "纸质签收单",
            "form_file": SimpleUploadedFile("a.pdf", pdf(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == Status.SIGNED_OFF
    s = d.signoffs.get()
    assert (s.kind, s.by_staff_upload, s.signed_by_id) == (SignoffKind.CONFIRMED, True, personas.finance.pk)
    assert s.form is not None
    assert s.form.purpose == "disbursement_signoff_form"


def test_pages_need_a_verified_staff_session_and_get_changes_nothing(personas: Personas) -> None:
    w = world(personas)
    d = approved(w)
    anonymous = Client()
    assert anonymous.get(url("list")).status_code == 302
    assert anonymous.post(url("pay", d), {}).status_code == 302
    assert staff(personas.public).get(url("list")).status_code == 403
    before = state()
    client = staff(personas.finance)
    for name in ("pay", "cancel", "resolve", "signoff_upload"):
        assert client.get(url(name, d)).status_code == 405
    assert state() == before
    assert client.get("/staff/disbursements/ZB-2026-999999/").status_code == 404


def test_finance_staff_of_another_district_get_404_and_change_nothing(personas: Personas) -> None:
    from rendao.conftest import make_staff
    from rendao.core.models import Role

    w = world(personas)
    d = approved(w)
    huli_finance = staff(make_staff("huli_finance", personas.tree.huli, Role.FINANCE))
    before = state()
    assert huli_finance.get(url("detail", d)).status_code == 404
    assert d.number not in huli_finance.get(url("list")).content.decode()
    data = {"bank_reference": "R1", "paid_on": "2026-01-01", "amount_fen": "1.00"}
    assert huli_finance.post(url("pay", d), data).status_code == 404
    assert huli_finance.post(url("cancel", d), {"reason": "x"}).status_code == 404
    assert state() == before
