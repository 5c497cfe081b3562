"""The staff donation pages and API: the list in finance scope, the detail, refunds, rejections."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import Role, User
from rendao.core.services.tokens import token_create
from rendao.funds.donations import notification_receive, rejection_record
from rendao.funds.models import Donation, FundraisingProject, NotificationRejection, Refund
from rendao.funds.tests.factories import donate, open_project, pay, sandbox_notification

pytestmark = pytest.mark.django_db


def english(user: User) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance)


def paid(project: FundraisingProject, amount_fen: int = 10_000, **fields: Any) -> Donation:
    donation = donate(project, amount_fen=amount_fen, **fields)
    pay(donation)
    donation.refresh_from_db()
    return donation


def detail_url(donation: Donation) -> str:
    return reverse("funds:donation_detail", kwargs={"out_trade_no": donation.out_trade_no})


def refund_url(donation: Donation) -> str:
    return reverse("funds:donation_refund", kwargs={"out_trade_no": donation.out_trade_no})


def form_refund_no(page: str) -> str:
    found = re.search(r'name="out_refund_no" value="([^"]+)"', page)
    assert found is not None, "no refund form on the page"
    return found.group(1)


def money() -> tuple[Any, ...]:
    return (
        list(Donation.objects.order_by("pk").values_list("status", "refunded_fen")),
        Refund.objects.count(),
        account_balances(),
    )


def account_balances() -> list[int]:
    from rendao.funds.models import Account

    return list(Account.objects.order_by("pk").values_list("balance_fen", flat=True))


# --- the list --------------------------------------------------------------------------------


def _list(client: Client, query: str = "") -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("funds:donation_list") + query)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_list_shows_donations_in_scope_by_public_name_in_constant_queries(
    project: FundraisingProject, personas: Personas
) -> None:
    first = paid(project, donor_name="张三明")
    client = english(personas.finance)
    few, page = _list(client)
    assert first.out_trade_no in page
    assert "张*明" in page
    assert "张三明" not in page
    assert first.receipt.number in page
    for _ in range(5):
        paid(project)
    many, page = _list(client)
    assert many == few
    assert page.count('href="/staff/donations/RD') == 6
    # The workbench menu links it.
    assert f'href="{reverse("funds:donation_list")}"' in page


def test_staff_of_another_district_see_none_of_its_donations(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project)
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    _q, page = _list(english(huli_finance))
    assert donation.out_trade_no not in page
    assert english(huli_finance).get(detail_url(donation)).status_code == 404
    # A role without finance permissions at the branch sees an empty list.
    _q, page = _list(english(personas.siming_staff))
    assert donation.out_trade_no not in page


def test_the_list_filters_by_project_status_channel_and_late_payments(
    project: FundraisingProject, personas: Personas
) -> None:
    done = paid(project)
    waiting = donate(project)
    late = donate(project, amount_fen=5_000)
    headers, body = sandbox_notification(late)
    Donation.objects.filter(pk=late.pk).update(status=Donation.Status.EXPIRED)
    assert notification_receive("sandbox", headers, body).status == 200
    other = open_project(personas.tree.siming, personas.finance, title="另一个项目")
    elsewhere = paid(other)
    client = english(personas.finance)

    _q, page = _list(client, "?flagged=on")
    assert late.out_trade_no in page
    assert done.out_trade_no not in page
    _q, page = _list(client, "?status=paying")
    assert waiting.out_trade_no in page
    assert done.out_trade_no not in page
    _q, page = _list(client, f"?project={other.pk}")
    assert elsewhere.out_trade_no in page
    assert done.out_trade_no not in page
    _q, page = _list(client, "?channel=sandbox")
    assert done.out_trade_no in page
    _q, page = _list(client, "?channel=alipay")
    assert done.out_trade_no not in page
    # A project out of scope is not a valid filter: the whole list is shown instead.
    huli_project = open_project(personas.tree.huli, personas.finance, title="湖里项目")
    siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    _q, page = _list(english(siming_finance), f"?project={huli_project.pk}")
    assert done.out_trade_no in page


# --- the detail and the refund form ------------------------------------------------------------


def test_the_detail_shows_the_money_trail_and_the_donor_only_masked(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project, donor_name="张三明", mobile="13812345678")
    page = english(personas.finance).get(detail_url(donation)).content.decode()
    assert "张*明" in page
    assert "138****5678" in page
    assert "张三明" not in page
    assert "13812345678" not in page
    assert f"RF-{project.pk}" in page
    assert f"CLR-sandbox-{project.branch_id}" in page
    assert donation.receipt.number in page
    assert f"#{donation.ledger_index}" in page
    assert 'name="out_refund_no"' in page


def test_finance_refunds_from_the_form_and_a_double_submit_is_one_refund(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project, 10_000)
    client = english(personas.finance)
    number = form_refund_no(client.get(detail_url(donation)).content.decode())
    data = {"amount_fen": "30.00", "reason": "捐赠人要求", "out_refund_no": number}
    response = client.post(refund_url(donation), data)
    assert response.status_code == 302
    assert client.post(refund_url(donation), data).status_code == 302
    refund = Refund.objects.get()
    assert (refund.out_refund_no, refund.amount_fen, refund.status) == (
        number,
        3_000,
        Refund.Status.SUCCEEDED,
    )
    assert refund.requested_by == personas.finance
    donation.refresh_from_db()
    assert donation.refunded_fen == 3_000
    page = client.get(detail_url(donation)).content.decode()
    assert "The money has been refunded." in page
    assert number in page
    # A fresh form gets a fresh number.
    assert form_refund_no(page) != number


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount_fen": "100.01"}, "At most 100.00 yuan"),
        ({"amount_fen": "0"}, "more than zero"),
        ({"amount_fen": "abc"}, "Enter a number"),
        ({"amount_fen": "1.001"}, "2 decimal places"),
        ({"reason": ""}, "This field is required"),
        ({"out_refund_no": "退款 1"}, "1 to 64 characters"),
    ],
)
def test_bad_refund_input_is_shown_on_the_form_and_changes_nothing(
    project: FundraisingProject, personas: Personas, data: dict[str, str], message: str
) -> None:
    donation = paid(project, 10_000)
    before = money()
    values = {"amount_fen": "10.00", "reason": "捐赠人要求", "out_refund_no": "RF-form-1"}
    values.update(data)
    response = english(personas.finance).post(refund_url(donation), values)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert money() == before


def test_read_only_finance_sees_no_refund_form_and_is_refused_a_refund(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project)
    client = english(personas.auditor)
    page = client.get(detail_url(donation)).content.decode()
    assert donation.out_trade_no in page
    assert 'name="out_refund_no"' not in page
    before = money()
    data = {"amount_fen": "10.00", "reason": "-", "out_refund_no": "RF-auditor"}
    assert client.post(refund_url(donation), data).status_code == 403
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    assert english(huli_finance).post(refund_url(donation), data).status_code == 404
    assert money() == before


def test_a_late_payment_offers_its_whole_amount_back(project: FundraisingProject, personas: Personas) -> None:
    late = donate(project, amount_fen=5_000)
    headers, body = sandbox_notification(late)
    Donation.objects.filter(pk=late.pk).update(status=Donation.Status.EXPIRED)
    assert notification_receive("sandbox", headers, body).status == 200
    page = english(personas.finance).get(detail_url(late)).content.decode()
    assert 'value="50.00"' in page
    assert "late payment: held for refund" in page


# --- refused notifications -------------------------------------------------------------------


def test_refused_notifications_are_shown_to_city_finance_only(personas: Personas) -> None:
    rejection_record(
        channel="sandbox",
        reason=NotificationRejection.Reason.FORGED,
        detail="sandbox: bad signature",
        out_trade_no="RD20260101FORGED0000000",
        body=b"{}",
        remote_ip="203.0.113.9",
    )
    url = reverse("funds:payment_rejections")
    page = english(personas.finance).get(url).content.decode()
    assert "RD20260101FORGED0000000" in page
    assert "203.0.113.9" in page
    assert english(personas.auditor).get(url).status_code == 200
    siming_finance = make_staff("siming_finance", personas.tree.siming, Role.FINANCE)
    assert english(siming_finance).get(url).status_code == 403
    assert english(personas.city_staff).get(url).status_code == 403


# --- the API ---------------------------------------------------------------------------------


def token_client(user: User) -> Client:
    _token, plaintext = token_create(actor=user, name="test", branch=None, meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def test_the_api_lists_donations_in_scope(project: FundraisingProject, personas: Personas) -> None:
    donation = paid(project)
    response = token_client(personas.finance).get("/api/v1/staff/donations?limit=10")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["out_trade_no"] for i in items] == [donation.out_trade_no]
    assert items[0]["receipt_number"] == donation.receipt.number
    assert "张" not in items[0]["public_name"][1:]
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    assert token_client(huli_finance).get("/api/v1/staff/donations").json()["items"] == []


def test_the_api_refunds_idempotently_and_refuses_bad_input(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project, 10_000)
    client = token_client(personas.finance)
    url = f"/api/v1/staff/donations/{donation.out_trade_no}/refunds"
    body = {"out_refund_no": "RF-api-1", "amount_fen": 2_500, "reason": "捐赠人要求"}
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201
    assert (first.json()["status"], first.json()["donation"]) == ("succeeded", donation.out_trade_no)
    again = client.post(url, body, content_type="application/json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    before = money()
    for bad in (
        {**body, "amount_fen": 3_000},  # the same number, another amount
        {**body, "out_refund_no": "RF-api-2", "amount_fen": "2500"},  # not an integer
        {**body, "out_refund_no": "RF-api-2", "amount_fen": 7_501},  # more than is left
        {**body, "out_refund_no": "RF api 2"},
    ):
        response = client.post(url, bad, content_type="application/json")
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    other = {**body, "out_refund_no": "RF-api-3"}
    assert token_client(huli_finance).post(url, other, content_type="application/json").status_code == 404
    # In view scope without finance.manage: refused with the reason, not hidden.
    auditor = signed_in_client(personas.auditor)
    refused = auditor.post(url, other, content_type="application/json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert money() == before


def test_a_refund_of_a_fully_refunded_donation_is_refused_on_the_form(
    project: FundraisingProject, personas: Personas
) -> None:
    donation = paid(project, 10_000)
    client = english(personas.finance)
    data = {"amount_fen": "100.00", "reason": "全额退款", "out_refund_no": "RF-full-1"}
    assert client.post(refund_url(donation), data).status_code == 302
    assert 'name="out_refund_no"' not in client.get(detail_url(donation)).content.decode()
    before = money()
    response = client.post(refund_url(donation), {**data, "amount_fen": "1.00", "out_refund_no": "RF-full-2"})
    assert response.status_code == 400
    assert "Only a paid donation can be refunded." in response.content.decode()
    assert money() == before
