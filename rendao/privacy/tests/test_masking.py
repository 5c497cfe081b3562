from __future__ import annotations

import pytest
from django.template import Context, Template

from rendao.core.masking import mask, mask_id_number, mask_mobile, mask_name


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("12345", "***45"),
        ("12", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_mobile_number_keeps_its_prefix_and_last_four(raw: str | None, masked: str) -> None:
    assert mask_mobile(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("张", "*"),
        ("  张三明 ", "张*明"),
        ("   ", ""),
        ("", ""),
        (None, ""),
        ("买买提·艾力", "买****力"),
    ],
)
def test_a_name_keeps_its_first_and_last_character(raw: str | None, masked: str) -> None:
    assert mask_name(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("350203199001011234", "350203********1234"),
        ("35020319900101123x", "350203********123X"),
        ("350203 19900101 1234", "350203********1234"),
        ("350203900101123", "350203*****1123"),
        ("1234567890123", "*************"),
        ("", ""),
        (None, ""),
    ],
)
def test_an_id_number_keeps_its_region_and_last_four(raw: str | None, masked: str) -> None:
    assert mask_id_number(raw) == masked


@pytest.mark.parametrize("raw", ["+8613812345678", "张三明", "350203199001011234", "12", "abc"])
def test_no_mask_returns_its_input_whole(raw: str) -> None:
    for kind in ("mobile", "name", "id_number", "unknown"):
        assert mask(kind, raw) != raw


def test_templates_mask_through_the_pii_filters() -> None:
    template = Template(
        "{% load pii %}{{ m|mask_mobile }} {{ n|mask_name }} {{ i|mask_id_number }} {{ m|masked:'mobile' }}"
    )
    out = template.render(Context({"m": "+8613812345678", "n": "张三明", "i": "350203199001011234"}))
    assert out == "138****5678 张*明 350203********1234 138****5678"
