"""Template filters of the approvals pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def fen_yuan(fen: int | None) -> str:
    """12345678 → "¥123,456.78"; None → "" (integer arithmetic only)."""
    if fen is None:
        return ""
    # divmod of a negative number floors (−150 → −2, 50): format the magnitude.
    sign = "-" if int(fen) < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"
