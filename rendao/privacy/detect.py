"""Finding resident ID numbers and Chinese mobile numbers in free text.

Used by the proofs that no plaintext personal number is stored or logged
(rendao/privacy/tests/test_pii_proofs.py and the log guard in rendao/conftest.py),
and usable by any export or log check. A candidate counts only if it is a real
number, not merely digits of the right length: an ID number must have a correct
GB 11643 check character and a birth date that exists, a mobile number must be
a valid Chinese mobile number for phonenumbers. What is reported is masked, so a
report of a leak is not itself a leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from rendao.core.masking import mask_id_number, mask_mobile

# Bounded by anything but a letter or digit, so that digit runs inside hex
# digests, base64 ciphertexts and longer numbers are not taken for a number.
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
ID_NUMBER_RE = re.compile(_EDGE_BEFORE + r"[1-9][0-9]{16}[0-9Xx]" + _EDGE_AFTER)
# 13800138000, +8613800138000, 86 138 0013 8000, 138-0013-8000.
MOBILE_RE = re.compile(_EDGE_BEFORE + r"(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}" + _EDGE_AFTER)
# 16–19 digits, optionally in groups of four separated by a space or a dash.
BANK_CARD_RE = re.compile(_EDGE_BEFORE + r"[0-9](?:[ -]?[0-9]){15,18}" + _EDGE_AFTER)


@dataclass(frozen=True)
class Finding:
    kind: str  # "id_number", "mobile" or "bank_card"
    masked: str

    def __str__(self) -> str:
        return f"{self.kind} {self.masked}"


def is_id_number(candidate: str) -> bool:
    number = candidate.upper()
    if len(number) != 18 or number[17] != ric.calc_check_digit(number):
        return False
    try:
        ric.get_birth_date(number)
    except InvalidComponent:
        return False
    # The region is not checked: a number with an unknown region is still a
    # person's number to a reader, and must not be stored or logged either.
    return True


def is_mobile(candidate: str) -> bool:
    try:
        number = phonenumbers.parse(candidate, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.region_code_for_number(number) == "CN"
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    )


def find_pii(text: str) -> list[Finding]:
    """Every valid ID number and Chinese mobile number in `text`, masked."""
    if not text:
        return []
    found = [Finding("id_number", mask_id_number(m)) for m in ID_NUMBER_RE.findall(text) if is_id_number(m)]
    found += [Finding("mobile", mask_mobile(m)) for m in MOBILE_RE.findall(text) if is_mobile(m)]
    return found


def is_bank_card(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    # Issuer digits 3–6 cover UnionPay (62), Visa, Mastercard, JCB and Amex; with
    # the Luhn check that leaves 1 in 25 random digit runs, not 1 in 10.
    return 16 <= len(digits) <= 19 and digits[0] in "3456" and luhn.is_valid(digits)


def find_bank_cards(text: str) -> list[Finding]:
    """Every Luhn-valid 16–19 digit bank card number in `text`, masked.

    Kept out of find_pii: one random 16–19 digit run in 25 passes these checks,
    too many for the log guard over every test's logs; used where no long digit
    run belongs at all, such as the transparency log's leaves.
    """
    if not text:
        return []
    return [
        Finding("bank_card", f"{d[:4]}…{d[-4:]}")
        for d in (re.sub(r"[ -]", "", m) for m in BANK_CARD_RE.findall(text))
        if is_bank_card(d)
    ]
