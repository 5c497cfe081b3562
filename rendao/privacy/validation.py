"""Validating personal data with mature libraries: python-stdnum, phonenumbers.

Every refusal is a translated `ValidationError` that says what is wrong and
never echoes the value: error messages end up in logs, error pages and API
responses, and a personal number must reach none of them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

# Separators people type inside an ID number: spaces (also full-width) and hyphens.
_SEPARATORS = re.compile(r"[\s\u3000-]+")
# No resident ID card names a birth before this day: the cards were first issued
# in 1984, to the living.
EARLIEST_BIRTH = dt.date(1890, 1, 1)
# Longest input looked at: anything longer is refused before any parsing.
MAX_INPUT = 40


@dataclass(frozen=True)
class IdNumber:
    """A checked resident identity card number (居民身份证号码)."""

    number: str
    birth_date: dt.date
    region_code: str

    @property
    def sex(self) -> str:
        """ "M" or "F": the 17th digit is odd for men."""
        return "M" if int(self.number[16]) % 2 else "F"

    def age_on(self, day: dt.date) -> int:
        return age_on(self.birth_date, day)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years on `day`. Someone born on 29 February turns a year older
    on 1 March in common years (the day after 28 February), as Chinese civil
    law counts a birthday that does not exist."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def id_number_compact(raw: str) -> str:
    """The number without separators, check character in upper case."""
    return _SEPARATORS.sub("", raw or "").upper()


def _format_error() -> ValidationError:
    return ValidationError(_("Enter an 18-character resident ID card number."), code="id_format")


def _region_known(code: str) -> bool:
    # stdnum's own get_birth_place() also wants the region code to have existed
    # in the birth year. That refuses real people: numbers were first issued in
    # the 1980s, under the codes of that time, to people born decades earlier.
    # A code that ever existed is accepted.
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return bool(info.get("county"))


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Check an 18-character ID number: format, checksum, birth date and region.

    Spaces, hyphens and a lower-case check character are accepted. The old
    15-digit numbers (first-generation cards, withdrawn in 2013) are refused
    with a message asking for the current number.
    """
    number = id_number_compact(raw)
    if not number or len(number) > MAX_INPUT:
        raise _format_error()
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            _(
                "Old 15-digit ID card numbers are no longer accepted; "
                "please enter the 18-character number on your current card."
            ),
            code="id_old_format",
        )
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _format_error()
    if number[17] != ric.calc_check_digit(number):
        raise ValidationError(
            _("The ID card number's check digit is wrong; please check the number."),
            code="id_checksum",
        )
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent as exc:
        raise ValidationError(
            _("The ID card number contains a birth date that does not exist."), code="id_birth_date"
        ) from exc
    if birth < EARLIEST_BIRTH or birth > (today or timezone.localdate()):
        raise ValidationError(
            _("The ID card number contains a birth date that does not exist."), code="id_birth_date"
        )
    if not _region_known(number[:6]):
        raise ValidationError(_("The ID card number starts with an unknown region code."), code="id_region")
    return IdNumber(number=number, birth_date=birth, region_code=number[:6])


def parse_mobile(raw: str) -> str:
    """A mainland China mobile number in E.164 form (+8613800138000), or ValidationError."""
    invalid = ValidationError(
        _("Enter a mainland China mobile number, for example 138 0013 8000."), code="invalid_phone"
    )
    raw = (raw or "").strip()
    if not raw or len(raw) > 32:
        raise invalid
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise invalid from exc
    if (
        phonenumbers.region_code_for_number(number) != "CN"
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
