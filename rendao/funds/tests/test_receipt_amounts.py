from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from rendao.funds.receipts.amounts import MAX_FEN, fen_to_capitals, fen_to_figures


@pytest.mark.parametrize(
    ("fen", "figures", "capitals"),
    [
        (1, "¥0.01", "壹分"),
        (10, "¥0.10", "壹角整"),
        (15, "¥0.15", "壹角伍分"),
        (100, "¥1.00", "壹元整"),
        (105, "¥1.05", "壹元零伍分"),
        (1_000, "¥10.00", "壹拾元整"),
        (1_005, "¥10.05", "壹拾元零伍分"),
        (10_100, "¥101.00", "壹佰零壹元整"),
        (140_950, "¥1,409.50", "壹仟肆佰零玖元伍角整"),
        (600_714, "¥6,007.14", "陆仟零柒元壹角肆分"),
        (1_200_050, "¥12,000.50", "壹万贰仟元伍角整"),
        (1_010_000, "¥10,100.00", "壹万零壹佰元整"),
        (10_000_000, "¥100,000.00", "壹拾万元整"),
        (10_001_000, "¥100,010.00", "壹拾万零壹拾元整"),
        (100_000_010, "¥1,000,000.10", "壹佰万元壹角整"),
        (1_234_567_890, "¥12,345,678.90", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
        (10_000_000_000, "¥100,000,000.00", "壹亿元整"),
        (10_000_000_100, "¥100,000,001.00", "壹亿零壹元整"),
        (10_001_000_000, "¥100,010,000.00", "壹亿零壹万元整"),
        (
            MAX_FEN,
            "¥999,999,999,999.99",
            "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
        ),
    ],
)
def test_it_writes_amounts_in_figures_and_capitals(fen: int, figures: str, capitals: str) -> None:
    assert fen_to_figures(fen) == figures
    assert fen_to_capitals(fen) == capitals


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, "amount_not_positive"),
        (-100, "amount_not_positive"),
        (1.5, "amount_not_integer"),
        (100.0, "amount_not_integer"),
        (Decimal("100"), "amount_not_integer"),
        ("100", "amount_not_integer"),
        (True, "amount_not_integer"),
        (MAX_FEN + 1, "amount_too_large"),
    ],
)
def test_it_refuses_amounts_that_are_not_positive_whole_fen(value: object, code: str) -> None:
    for convert in (fen_to_capitals, fen_to_figures):
        with pytest.raises(ValidationError) as caught:
            convert(value)  # type: ignore[arg-type]
        assert caught.value.code == code
        assert caught.value.messages[0].startswith("The amount")
