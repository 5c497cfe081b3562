"""Validating personal data with mature libraries: python-stdnum, phonenumbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric


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
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Check an 18-character ID number: format, region, birth date and checksum.

    Raises a translated ValidationError naming what is wrong, never echoing the
    number itself (it would end up in logs and error pages).
    """
    try:
        number = ric.validate(raw)
    except stdnum_errors.InvalidChecksum as exc:
        raise ValidationError(
            _("The ID card number's check digit is wrong; please check the number."),
            code="id_checksum",
        ) from exc
    except stdnum_errors.InvalidComponent as exc:
        raise ValidationError(
            _("The ID card number has an impossible birth date or region."), code="id_component"
        ) from exc
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(_("Enter an 18-character resident ID card number."), code="id_format") from exc
    birth = ric.get_birth_date(number)
    if birth > (today or timezone.localdate()):
        raise ValidationError(
            _("The ID card number has an impossible birth date or region."), code="id_component"
        )
    return IdNumber(number=number, birth_date=birth, region_code=number[:6])
