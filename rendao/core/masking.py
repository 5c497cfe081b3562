"""Masking personal data for display.

Pages show just enough of a personal value for its owner to recognise it, never
the whole value: a screenshot or a look over the shoulder must not leak it.
"""

from __future__ import annotations

# The country code is dropped before masking: every Chinese mobile number has it,
# so it tells the reader nothing and would only push the visible digits around.
_CHINA_PREFIX = "+86"


def mask_mobile(mobile: str | None) -> str:
    """`+8613812345678` → `138****5678`: the carrier prefix and the last four digits.

    Numbers too short for that pattern keep only their last two digits, so no
    input ever comes back whole. An empty value gives an empty string.
    """
    if not mobile:
        return ""
    number = mobile.strip()
    if number.startswith(_CHINA_PREFIX):
        number = number[len(_CHINA_PREFIX) :]
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str:
    """`张三明` → `张*明`, `张三` → `张*`, `欧阳娜娜` → `欧**娜`: first and (for three
    or more characters) last character kept, the rest starred."""
    if not name:
        return ""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_id_number(number: str | None) -> str:
    """`350203199001011234` → `350203********1234`: region and last four kept."""
    if not number:
        return ""
    n = number.strip()
    if len(n) < 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]
