"""No leaf of the transparency log holds personal data (issue #4).

Every Entry saved anywhere in the test suite is scanned by the session's leaf
guard (rendao/conftest.py): valid ID-card numbers and Chinese mobile numbers
(rendao/privacy/detect.py find_pii), Luhn-valid 16–19 digit bank card numbers
(find_bank_cards), and keys whose name says they carry a person's data (name,
phone, mobile, id_number, id_card, address, bank, account). Chinese names in
free text have no reliable detector, so names are caught by the key instead.
A hit fails the test that wrote the leaf. These tests prove the guard catches a
planted value and lets a proper public projection through.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from rendao.conftest import LeafGuard, leaf_findings
from rendao.ledger.models import EntryKind
from rendao.ledger.services import commitment, ledger_append, new_salt
from rendao.privacy.detect import find_bank_cards

pytestmark = pytest.mark.django_db

ID_NUMBER = "350203198503120132"  # synthetic, valid check character
MOBILE = "+8613800138000"  # the test range
BANK_CARD = "6222021234567890128"  # synthetic, Luhn-valid UnionPay


def _append(payload: dict[str, object]) -> None:
    with transaction.atomic():
        ledger_append(kind=EntryKind.DONATION_RECEIVED, payload=payload)


def test_the_leaf_guard_catches_planted_id_mobile_and_bank_card_numbers(leaf_guard: LeafGuard) -> None:
    _append({"amount_fen": 5000, "memo": f"{ID_NUMBER} / {MOBILE} / {BANK_CARD}"})
    hits = list(leaf_guard.hits)
    # Cleared here, or the guard would (rightly) fail this test.
    leaf_guard.hits.clear()
    assert hits == ["entry 0: id_number 350203********0132, mobile 138****8000, bank_card 6222…0128"]


def test_the_leaf_guard_catches_keys_named_for_personal_data(leaf_guard: LeafGuard) -> None:
    _append({"amount_fen": 5000, "donor": {"real_name": "x", "bank_account": "y"}})
    hits = list(leaf_guard.hits)
    leaf_guard.hits.clear()
    assert hits == ["entry 0: key 'bank_account', key 'real_name'"]  # sorted keys


def test_a_public_projection_passes_the_leaf_guard(leaf_guard: LeafGuard) -> None:
    _append(
        {
            "amount_fen": 12345678901234567,  # 17 digits, but no card issuer starts with 1
            "donor": commitment(new_salt(), "donor-1"),
            "district": "350203000000",
            "project": "P-2026-0001",
        }
    )
    assert leaf_guard.hits == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (BANK_CARD, ["bank_card 6222…0128"]),
        ("6222 0212 3456 7890 128", ["bank_card 6222…0128"]),
        ("4111-1111-1111-1111", ["bank_card 4111…1111"]),
        ("6222021234567890127", []),  # Luhn check fails
        ("622202123456789", []),  # 15 digits
        ("1234567812345670", []),  # Luhn-valid, but no card issuer starts with 1
        (f"x{BANK_CARD}", []),  # inside a longer token (hex digests, base64)
    ],
)
def test_the_bank_card_detector_wants_a_card_number(text: str, found: list[str]) -> None:
    assert [str(f) for f in find_bank_cards(text)] == found


def test_a_leaf_that_is_not_json_is_reported() -> None:
    assert leaf_findings(b"\xff not json") == ["leaf is not JSON"]
