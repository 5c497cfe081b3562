"""Follow my donation by receipt number + verification code: the /follow/ page and the service."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import DjangoAssertNumQueries, Settings

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.disclosure.follow import (
    FollowKind,
    FollowRefused,
    FollowThrottled,
    donation_follow_by_receipt,
    follow_attempts_purge,
)
from rendao.disclosure.models import FollowAttempt
from rendao.funds.models import Donation, Receipt
from rendao.funds.receipting import receipt_issue
from rendao.funds.tests.factories import donate, open_project, pay

pytestmark = pytest.mark.django_db

NO_MATCH = "No receipt has this number and verification code."
THROTTLED = "Too many attempts that did not match a receipt."


@dataclass
class Given:
    donation: Donation
    receipt: Receipt

    @property
    def follow_url(self) -> str:
        return reverse("funds:donation_follow", kwargs={"token": self.donation.follow_token})


@pytest.fixture
def given(personas: Personas) -> Given:
    project = open_project(personas.tree.siming, personas.finance)
    donation = donate(project, amount_fen=12_345)
    pay(donation)
    receipt = receipt_issue(donation.pk)
    assert receipt is not None
    donation.refresh_from_db()
    return Given(donation=donation, receipt=receipt)


def client(ip: str = "10.1.1.1") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)


def post(number: str, code: str, *, ip: str = "10.1.1.1") -> Any:
    return client(ip).post(reverse("disclosure:follow"), {"number": number, "code": code})


def wrong_code(receipt: Receipt | Any) -> str:
    return "0" * len(receipt.check_code) if receipt.check_code != "0" * 8 else "1" * 8


def unknown_number(receipt: Receipt) -> str:
    return f"{receipt.branch_code}-{receipt.year}-{receipt.serial + 500:06d}"


def test_the_page_shows_a_form_with_both_fields() -> None:
    response = client().get(reverse("disclosure:follow"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="number"' in body
    assert 'name="code"' in body
    assert "csrfmiddlewaretoken" in body


def test_the_right_number_and_code_lead_to_the_donations_follow_page(given: Given) -> None:
    # Typed loosely: spaces around, the code in lower case.
    response = post(f"  {given.receipt.number} ", f" {given.receipt.check_code.lower()} ")
    assert response.status_code == 302
    assert response["Location"] == given.follow_url
    assert FollowAttempt.objects.filter(succeeded=True).count() == 1


def test_an_unknown_number_and_a_wrong_code_get_the_same_answer(given: Given) -> None:
    unknown = post(unknown_number(given.receipt), given.receipt.check_code)
    wrong = post(given.receipt.number, wrong_code(given.receipt))
    assert unknown.status_code == wrong.status_code == 400
    for response in (unknown, wrong):
        body = response.content.decode()
        assert NO_MATCH in body
        assert given.follow_url not in body
        assert "voided" not in body
    assert FollowAttempt.objects.filter(succeeded=False).count() == 2


@pytest.mark.parametrize(
    ("number", "code", "field_error"),
    [
        ("abc", "1A2B3C4D", "Enter a receipt number like 350203-2026-000123."),
        ("350203-2026-000000", "1A2B3C4D", "Enter a receipt number like 350203-2026-000123."),
        ("３５０２０３-2026-000001", "1A2B3C4D", "Enter a receipt number like 350203-2026-000123."),
        ("350203-2026-000001", "XYZ!", "Enter the verification code printed on the receipt"),
        ("350203-2026-000001", "", "This field is required."),
    ],
)
def test_malformed_input_is_refused_clearly_and_costs_no_try(
    number: str, code: str, field_error: str
) -> None:
    response = post(number, code)
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert FollowAttempt.objects.count() == 0


def test_malformed_input_is_refused_without_asking_the_database(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(0), pytest.raises(ValidationError) as caught:
        donation_follow_by_receipt(number="350203-26-1", code="zz", meta=RequestMeta(ip="10.0.0.9"))
    assert set(caught.value.message_dict) == {"number", "code"}


def test_the_page_refuses_a_post_without_csrf_token(given: Given) -> None:
    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response = strict.post(
        reverse("disclosure:follow"), {"number": given.receipt.number, "code": given.receipt.check_code}
    )
    assert response.status_code == 403
    assert FollowAttempt.objects.count() == 0


def test_after_too_many_failures_from_one_ip_even_the_right_code_is_refused(
    given: Given, settings: Settings
) -> None:
    settings.FOLLOW_FAILURES_PER_IP = 3
    for n in range(3):
        # Different unknown numbers, so only the per-IP limit is reached.
        number = f"{given.receipt.branch_code}-{given.receipt.year}-{given.receipt.serial + 100 + n:06d}"
        assert post(number, "ABCDEF12").status_code == 400
    limited = post(given.receipt.number, given.receipt.check_code)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "3600"
    body = limited.content.decode()
    assert THROTTLED in body
    assert given.follow_url not in body
    # Another caller is not held back by this one.
    other = post(given.receipt.number, given.receipt.check_code, ip="10.2.2.2")
    assert other.status_code == 302


def test_after_too_many_failures_for_one_receipt_number_even_the_right_code_is_refused(
    given: Given, settings: Settings
) -> None:
    settings.FOLLOW_FAILURES_PER_RECEIPT = 2
    # From different addresses, so only the per-number limit is reached.
    for ip in ("10.3.0.1", "10.3.0.2"):
        assert post(given.receipt.number, wrong_code(given.receipt), ip=ip).status_code == 400
    limited = post(given.receipt.number, given.receipt.check_code, ip="10.3.0.3")
    assert limited.status_code == 429
    assert THROTTLED in limited.content.decode()


def test_the_limit_holds_in_the_service_and_lifts_after_an_hour(given: Given, settings: Settings) -> None:
    settings.FOLLOW_FAILURES_PER_RECEIPT = 1
    meta = RequestMeta(ip="10.4.0.1")
    with pytest.raises(FollowRefused):
        donation_follow_by_receipt(number=given.receipt.number, code=wrong_code(given.receipt), meta=meta)
    with pytest.raises(FollowThrottled):
        donation_follow_by_receipt(number=given.receipt.number, code=given.receipt.check_code, meta=meta)
    # A refused look-up is not recorded, so it does not keep the hour sliding.
    assert FollowAttempt.objects.count() == 1
    FollowAttempt.objects.update(at=timezone.now() - timedelta(minutes=61))
    result = donation_follow_by_receipt(number=given.receipt.number, code=given.receipt.check_code, meta=meta)
    assert result.kind == FollowKind.DONATION
    assert result.follow_url == given.follow_url


def test_attempts_are_stored_as_keyed_digests_only(given: Given, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    post(given.receipt.number, wrong_code(given.receipt), ip="10.9.8.7")
    post(given.receipt.number, given.receipt.check_code, ip="10.9.8.7")
    for attempt in FollowAttempt.objects.all():
        stored = f"{attempt.ip_digest} {attempt.number_digest}"
        assert "10.9.8.7" not in stored
        assert given.receipt.number not in stored
        assert len(attempt.ip_digest) == len(attempt.number_digest) == 64
    assert given.receipt.check_code not in caplog.text
    assert given.receipt.check_code.lower() not in caplog.text


def test_a_voided_receipt_says_so_only_once_its_code_matched(given: Given) -> None:
    Receipt.objects.filter(pk=given.receipt.pk).update(status=Receipt.Status.VOIDED, voided_at=timezone.now())
    wrong = post(given.receipt.number, wrong_code(given.receipt))
    assert wrong.status_code == 400
    assert "voided" not in wrong.content.decode()
    right = post(given.receipt.number, given.receipt.check_code)
    assert right.status_code == 200
    body = right.content.decode()
    assert "This receipt was voided" in body
    assert "refunded" in body
    assert given.follow_url in body


def test_a_goods_receipt_leads_to_its_verification_page(personas: Personas) -> None:
    from rendao.goods.models import GoodsReceipt
    from rendao.goods.tests.factories import line, receive, warehouse

    wh = warehouse(personas.siming_staff, personas.tree.siming)
    intake = receive(personas.siming_staff, wh, line(quantity=10, unit_value_fen=1_000))
    goods = GoodsReceipt.objects.get(intake=intake)
    response = post(goods.number, goods.check_code.lower())
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "funds:receipt_verify", kwargs={"number": goods.number, "check": goods.check_code}
    )
    assert post(goods.number, wrong_code(goods)).status_code == 400


def test_the_purge_drops_attempts_older_than_a_day_only() -> None:
    now = timezone.now()
    old = FollowAttempt.objects.create(ip_digest="a" * 64, number_digest="b" * 64, at=now - timedelta(days=2))
    recent = FollowAttempt.objects.create(ip_digest="a" * 64, number_digest="b" * 64, at=now)
    assert follow_attempts_purge() == 1
    assert not FollowAttempt.objects.filter(pk=old.pk).exists()
    assert FollowAttempt.objects.filter(pk=recent.pk).exists()


def test_the_give_page_links_to_the_follow_page() -> None:
    response = client().get(reverse("funds:give_list"))
    assert response.status_code == 200
    assert f'href="{reverse("disclosure:follow")}"' in response.content.decode()
