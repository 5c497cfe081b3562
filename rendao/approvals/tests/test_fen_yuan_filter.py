"""The money filter every page uses: exact yuan from integer fen, negatives included."""

from __future__ import annotations

import pytest

from rendao.approvals.templatetags.approvals import fen_yuan


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (12345678, "¥123,456.78"),
        (5, "¥0.05"),
        (0, "¥0.00"),
        (-150, "-¥1.50"),
        (-5, "-¥0.05"),
        (None, ""),
    ],
)
def test_fen_are_shown_as_exact_yuan_with_the_sign_in_front(fen: int | None, shown: str) -> None:
    assert fen_yuan(fen) == shown
