"""POST /api/v1/donations/follow-by-receipt: the same rules as the /follow/ page, in JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from rendao.disclosure.models import FollowAttempt
from rendao.disclosure.tests.test_follow_by_receipt import Given, given, unknown_number, wrong_code
from rendao.funds.models import Receipt

pytestmark = pytest.mark.django_db
__all__ = ["given"]  # the fixture, shared with the page tests

URL = "/api/v1/donations/follow-by-receipt"


def call(number: str, code: str, *, ip: str = "10.5.5.5") -> Any:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)
    body = json.dumps({"receipt_number": number, "code": code})
    return client.post(URL, body, content_type="application/json")


def test_the_right_number_and_code_answer_the_follow_url(given: Given) -> None:
    response = call(given.receipt.number, given.receipt.check_code.lower())
    assert response.status_code == 200
    assert response.json() == {"kind": "donation", "follow_url": given.follow_url, "voided": False}
    assert response["Cache-Control"] == "private, no-store"


def test_an_unknown_number_and_a_wrong_code_get_the_same_answer(given: Given) -> None:
    unknown = call(unknown_number(given.receipt), given.receipt.check_code)
    wrong = call(given.receipt.number, wrong_code(given.receipt))
    assert unknown.status_code == wrong.status_code == 404
    assert unknown.json() == wrong.json()
    assert unknown.json()["error"]["code"] == "not_found"
    assert "No receipt has this number and verification code." in unknown.json()["error"]["message"]


def test_malformed_input_is_a_validation_error_naming_the_fields() -> None:
    response = call("2026-000001", "not a code")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {tuple(d["loc"]) for d in error["details"]} == {("body", "receipt_number"), ("body", "code")}
    assert FollowAttempt.objects.count() == 0


def test_a_body_missing_a_field_is_refused() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(URL, json.dumps({"receipt_number": "350203-2026-000001"}), "application/json")
    assert response.status_code == 422
    assert FollowAttempt.objects.count() == 0


def test_when_limited_even_the_right_code_is_429_with_retry_after(given: Given, settings: Settings) -> None:
    settings.FOLLOW_FAILURES_PER_RECEIPT = 2
    for ip in ("10.6.0.1", "10.6.0.2"):
        assert call(given.receipt.number, wrong_code(given.receipt), ip=ip).status_code == 404
    limited = call(given.receipt.number, given.receipt.check_code, ip="10.6.0.3")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "3600"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert given.follow_url not in limited.content.decode()


def test_a_voided_receipt_is_flagged_once_its_code_matched(given: Given) -> None:
    Receipt.objects.filter(pk=given.receipt.pk).update(status=Receipt.Status.VOIDED, voided_at=timezone.now())
    assert call(given.receipt.number, wrong_code(given.receipt)).status_code == 404
    response = call(given.receipt.number, given.receipt.check_code)
    assert response.json() == {"kind": "voided", "follow_url": given.follow_url, "voided": True}


def test_the_operation_is_in_the_openapi_document() -> None:
    schema = Client().get(reverse("api:openapi-json")).json()
    assert "post" in schema["paths"][URL]
