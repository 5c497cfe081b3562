"""How a value is normalised before its blind index is taken.

"138 0013 8000", "+86 13800138000" and "13800138000" are one number and must
find the same row; an ID number may be typed with spaces or hyphens and its
final check character in lower case.
"""

from __future__ import annotations

import phonenumbers

from rendao.privacy.validation import id_number_compact


def _mobile(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return raw.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _id_number(raw: str) -> str:
    return id_number_compact(raw)


def _text(raw: str) -> str:
    return " ".join(raw.split())


NORMALIZERS = {"mobile": _mobile, "id_number": _id_number}


def normalize(purpose: str, raw: str) -> str:
    return NORMALIZERS.get(purpose, _text)(raw)
