"""Shared builders for the consent and data-rights tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from stdnum.cn import ric

from rendao.core.models import User
from rendao.privacy.models import ConsentText, Identity
from rendao.privacy.purposes import Purpose

EN = {"Accept-Language": "en"}


def id_number_born(birth: dt.date, serial: str = "123") -> str:
    """A synthetic 思明区 ID number for `birth` with a correct check digit."""
    body = f"350203{birth:%Y%m%d}{serial}"
    return body + ric.calc_check_digit(body + "0")  # the last digit is a placeholder it ignores


def years_ago(years: int, *, days: int = 0) -> dt.date:
    today = timezone.localdate()
    # 29 February has no twin in most years; the 28th is as good for an age.
    day = today.replace(day=28) if (today.month, today.day) == (2, 29) else today
    return day.replace(year=day.year - years) - dt.timedelta(days=days)


def give_identity(user: User, *, age: int, name: str = "张三明", serial: str = "123") -> Identity:
    return Identity.objects.create(
        user=user, real_name=name, id_number=id_number_born(years_ago(age, days=30), serial)
    )


def text(purpose: Purpose = Purpose.HEALTH_DATA, language: str = "en") -> ConsentText:
    return ConsentText.objects.get(purpose=purpose, language=language, version=1)
