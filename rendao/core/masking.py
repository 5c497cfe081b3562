"""Masking personal data for display.

Pages show just enough of a personal value for its owner to recognise it, never
the whole value: a screenshot or a look over the shoulder must not leak it.
Every helper takes None or "" and gives "", and never returns its input whole.
Templates use them through `{% load pii %}` (rendao.privacy.templatetags.pii);
seeing a value unmasked is `rendao.privacy.reveal.pii_reveal`, audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The country code is dropped before masking: every Chinese mobile number has it,
# so it tells the reader nothing and would only push the visible digits around.
_CHINA_PREFIXES = ("+86", "0086")
_SEPARATORS = re.compile(r"[\s\u3000-]+")


def mask_mobile(mobile: str | None) -> str:
    """`+8613812345678` → `138****5678`: the carrier prefix and the last four digits.

    Numbers too short for that pattern keep only their last two digits, so no
    input ever comes back whole.
    """
    if not mobile:
        return ""
    number = mobile.strip()
    for prefix in _CHINA_PREFIXES:
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 13 and digits.startswith("861"):
        # "86 138…" typed without the plus sign.
        digits = digits[2:]
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str:
    """`张三明` → `张*明`, `张三` → `张*`, `欧阳娜娜` → `欧**娜`: first and (for three
    or more characters) last character kept, the rest starred. A single
    character is starred whole: shown, it would be the whole name."""
    if not name:
        return ""
    chars = list(_SEPARATORS.sub(" ", name.strip()))
    if not chars:
        return ""
    if len(chars) == 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_id_number(number: str | None) -> str:
    """`350203199001011234` → `350203********1234`: region and last four kept.

    The birth date in the middle is always hidden; values too short to keep
    both ends and still hide it are starred whole.
    """
    if not number:
        return ""
    n = _SEPARATORS.sub("", number).upper()
    if len(n) < 14:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


MASKS: dict[str, Callable[[str | None], str]] = {
    "mobile": mask_mobile,
    "name": mask_name,
    "id_number": mask_id_number,
}


def mask(kind: str, value: str | None) -> str:
    """Mask `value` as a `kind` ("mobile", "name", "id_number"); any other kind
    is starred whole, so an unknown kind never shows a value."""
    masker = MASKS.get(kind)
    if masker is None:
        return "*" * min(len(value or ""), 8)
    return masker(value)
