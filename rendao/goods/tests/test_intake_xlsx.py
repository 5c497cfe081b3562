"""Intake lines from Excel: headers in Chinese or English, exact fen, errors naming the row, bombs refused."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import Workbook

from rendao.goods.import_xlsx import intake_lines_from_xlsx, yuan_to_fen


def xlsx(rows: list[list[object]]) -> io.BytesIO:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


FUTURE = timezone.localdate() + timedelta(days=400)


def test_it_reads_chinese_headers_and_exact_fen() -> None:
    lines = intake_lines_from_xlsx(
        xlsx(
            [
                ["物品", "规格", "单位", "数量", "单价(元)", "批号", "有效期"],
                ["矿泉水", "550ml×24", "箱", 200, 25.5, "B01", FUTURE],
                ["书包", None, "个", "600", "0.1", None, None],
                [None, None, None, None, None, None, None],
            ]
        )
    )
    assert [(x.item_name, x.quantity, x.unit_value_fen) for x in lines] == [
        ("矿泉水", 200, 2550),
        ("书包", 600, 10),
    ]
    assert lines[0].expires_on == FUTURE
    assert lines[0].specification == "550ml×24"


def test_it_reads_english_headers_in_any_order() -> None:
    lines = intake_lines_from_xlsx(xlsx([["Quantity", "Unit", "Item"], [5, "box", "masks"]]))
    assert (lines[0].item_name, lines[0].unit, lines[0].quantity, lines[0].unit_value_fen) == (
        "masks",
        "box",
        5,
        0,
    )


@pytest.mark.parametrize(
    ("value", "fen"), [(0.1, 10), ("12.34", 1234), (3, 300), ("1,000.5", 100050), (None, 0), (0.3, 30)]
)
def test_yuan_becomes_exact_fen(value: object, fen: int) -> None:
    assert yuan_to_fen(value) == fen


@pytest.mark.parametrize("value", ["1.234", "-1", "abc", "NaN", True, "Infinity"])
def test_yuan_with_more_than_two_decimals_or_nonsense_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        yuan_to_fen(value)


def test_errors_name_the_row() -> None:
    with pytest.raises(ValidationError) as exc:
        intake_lines_from_xlsx(
            xlsx(
                [
                    ["物品", "单位", "数量", "单价(元)", "有效期"],
                    ["矿泉水", "箱", 1, 1, None],
                    ["口罩", "盒", "two", 1, None],
                    ["面包", "袋", 1, "1.005", None],
                    ["牛奶", "箱", 1, 1, date(2000, 1, 1)],
                    ["", "箱", 1, 1, None],
                ]
            )
        )
    messages = exc.value.messages
    assert [m.split(":")[0] for m in messages] == ["Row 3", "Row 4", "Row 5", "Row 6"]


def test_a_missing_header_or_an_empty_sheet_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        intake_lines_from_xlsx(xlsx([["name", "count"], ["x", 1]]))
    assert exc.value.code == "bad_header"
    with pytest.raises(ValidationError):
        intake_lines_from_xlsx(xlsx([["物品", "单位", "数量"]]))


def test_too_many_rows_are_refused() -> None:
    header: list[object] = ["物品", "单位", "数量"]
    rows: list[list[object]] = [header] + [["水", "箱", 1]] * 201
    with pytest.raises(ValidationError) as exc:
        intake_lines_from_xlsx(xlsx(rows))
    assert exc.value.code == "too_many_rows"


def test_a_zip_bomb_or_not_a_workbook_is_refused() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<x/>")
        zf.writestr("xl/workbook.xml", "<x/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (30 * 1024 * 1024))
    bomb.seek(0)
    with pytest.raises(ValidationError) as exc:
        intake_lines_from_xlsx(bomb)
    assert "zip bomb" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError):
        intake_lines_from_xlsx(io.BytesIO(b"not a zip at all"))
