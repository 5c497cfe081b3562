"""Receipt amounts: integer fen shown as ¥ figures and as Chinese capital numerals (人民币大写).

The capitals follow the rules banks and fiscal receipts use (《支付结算办法》附一):
digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 inside 4-digit sections joined by 万 and 亿;
one 零 for any run of zeros between non-zero digits, also across a section boundary
(100,010 → 壹拾万零壹拾元); a 零 after 元 when the jiao digit is zero but the fen digit is
not (10.05 → 壹拾元零伍分); 整 after an amount that ends in 元 or 角, none after 分.
Where the rules allow either, we write the shorter form (12,000.50 → 壹万贰仟元伍角整).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿")

# 999,999,999,999.99 yuan: the largest amount the sections 万 and 亿 spell without 万亿. Any real
# donation is far below it; the cap stops a corrupted value from printing nonsense.
MAX_FEN = 10**14 - 1


def validate_fen(amount_fen: object) -> int:
    """Return the amount if it is a positive whole number of fen, else raise ValidationError."""
    # bool is an int subclass: True must not become one fen.
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise ValidationError(_("The amount must be a whole number of fen."), code="amount_not_integer")
    if amount_fen <= 0:
        raise ValidationError(_("The amount must be greater than zero."), code="amount_not_positive")
    if amount_fen > MAX_FEN:
        raise ValidationError(_("The amount is too large."), code="amount_too_large")
    return amount_fen


def fen_to_figures(amount_fen: int) -> str:
    """12000050 → '¥120,000.50'."""
    validate_fen(amount_fen)
    yuan, fen = divmod(amount_fen, 100)
    return f"¥{yuan:,}.{fen:02d}"


def _section_to_capitals(section: int) -> str:
    """0 < section < 10,000 → capitals without leading 零, zeros inside collapsed to one 零."""
    out: list[str] = []
    pending_zero = False
    for position in range(3, -1, -1):
        digit = section // 10**position % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[digit] + _UNITS[position])
    return "".join(out)


def _yuan_to_capitals(yuan: int) -> str:
    sections: list[int] = []
    while yuan:
        yuan, section = divmod(yuan, 10_000)
        sections.append(section)
    out: list[str] = []
    need_zero = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            # A whole empty section (1,0000,0001): remember a zero for the next non-empty one.
            need_zero = bool(out)
            continue
        # A section below 1,000 after a higher non-empty one starts with a zero thousands digit.
        if out and (need_zero or section < 1000):
            out.append("零")
        out.append(_section_to_capitals(section) + _SECTIONS[index])
        need_zero = False
    return "".join(out)


def fen_to_capitals(amount_fen: int) -> str:
    """12000050 → '壹拾贰万元伍角整'; 1 → '壹分'; 1005 → '壹拾元零伍分'."""
    validate_fen(amount_fen)
    yuan, rest = divmod(amount_fen, 100)
    jiao, fen = divmod(rest, 10)
    out = []
    if yuan:
        out.append(_yuan_to_capitals(yuan) + "元")
    if jiao:
        out.append(_DIGITS[jiao] + "角")
    elif fen and yuan:
        out.append("零")
    if fen:
        out.append(_DIGITS[fen] + "分")
    else:
        out.append("整")
    return "".join(out)
