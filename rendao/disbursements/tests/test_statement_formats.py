"""Reading bank statement files: CSV in UTF-8, UTF-8 with BOM and GBK, XLSX; bad files refused."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from rendao.disbursements import statement_formats
from rendao.disbursements.statement_formats import ParsedLine, parse_statement
from rendao.disbursements.tests.statement_files import csv_bytes, xlsx_bytes

ROWS = [
    ["2026-03-02", "B0001", "厦门市第一医院", "1,234.56", "", "98,765.44"],
    ["2026-03-03", "", "某捐赠企业", "", "50000", "148,765.44"],
    ["2026/03/05", "B0002", "湖里中学", "300.5", "", "148,464.94"],
]
EXPECTED = [
    ParsedLine(5, date(2026, 3, 2), 123_456, "B0001", "厦门市第一医院"),
    ParsedLine(7, date(2026, 3, 5), 30_050, "B0002", "湖里中学"),
]


def refused(content: bytes) -> ValidationError:
    with translation.override("en"), pytest.raises(ValidationError) as info:
        parse_statement(content)
    return info.value


class TestCsv:
    @pytest.mark.parametrize(
        ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gbk", False)], ids=["utf8", "bom", "gbk"]
    )
    def test_it_reads_outgoing_lines_and_counts_incoming(self, encoding: str, bom: bool) -> None:
        parsed = parse_statement(csv_bytes(ROWS, encoding=encoding, bom=bom))
        assert parsed.kind == "csv"
        assert parsed.lines == EXPECTED
        assert parsed.incoming_count == 1

    def test_it_reads_english_headers_with_units_and_no_preamble(self) -> None:
        content = csv_bytes(
            [["20260302", "R-1", "Hospital", "12.30", "0.00"]],
            header=["Booking Date", "Reference", "Counterparty", "Debit (CNY)", "Credit (CNY)"],
            preamble=False,
        )
        assert parse_statement(content).lines == [ParsedLine(2, date(2026, 3, 2), 1230, "R-1", "Hospital")]

    def test_it_reads_an_amount_with_a_direction_column(self) -> None:
        content = csv_bytes(
            [["2026-03-02", "B1", "借", "100"], ["2026-03-02", "B2", "贷", "100"]],
            header=["记账日期", "凭证号", "借贷标志", "交易金额"],
        )
        parsed = parse_statement(content)
        assert [line.reference for line in parsed.lines] == ["B1"]
        assert parsed.incoming_count == 1

    def test_it_reads_a_signed_amount_column(self) -> None:
        content = csv_bytes(
            [["2026-03-02 09:30:00", "'B1", "-2,000.00"], ["2026-03-02", "B2", "5.00"]],
            header=["交易时间", "交易流水号", "金额(元)"],
        )
        parsed = parse_statement(content)
        assert parsed.lines == [ParsedLine(5, date(2026, 3, 2), 200_000, "B1", "")]

    def test_it_skips_blank_and_total_rows(self) -> None:
        content = csv_bytes([*ROWS, [], ["合计", "", "", "1,535.06", "50000", ""]])
        assert len(parse_statement(content).lines) == 2


class TestXlsx:
    def test_it_reads_the_first_sheet_with_excel_numbers_and_dates(self) -> None:
        rows: list[list[object]] = [
            # openpyxl gives a date cell as a naive datetime: Excel has no time zones.
            [datetime(2026, 3, 2, 10, 0), "B0001", "厦门市第一医院", 1234.56, None, 98765.44],  # noqa: DTZ001
            [date(2026, 3, 3), None, "某捐赠企业", None, 50000, 148765.44],
            ["2026-03-05", "B0002", "湖里中学", 300.5, None, 148464.94],
        ]
        parsed = parse_statement(xlsx_bytes(rows))
        assert parsed.kind == "xlsx"
        assert parsed.lines == EXPECTED
        assert parsed.incoming_count == 1

    def test_floats_that_binary_cannot_hold_exactly_stay_exact(self) -> None:
        # 0.1 + 0.2 style: 1.15 * 100 is 114.99999999999999 as a float.
        parsed = parse_statement(xlsx_bytes([[date(2026, 3, 2), "B1", "", 1.15, None, 0]]))
        assert parsed.lines[0].amount_fen == 115

    def test_three_decimals_are_refused_with_the_row(self) -> None:
        error = refused(xlsx_bytes([[date(2026, 3, 2), "B1", "", 1.155, None, 0]]))
        assert error.messages == ["Row 5 of the statement: The amount has more than two decimals."]

    def test_a_zip_bomb_is_refused_before_it_is_opened(self) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
            archive.writestr(
                "xl/worksheets/sheet1.xml", b"\0" * (statement_formats.MAX_XLSX_UNPACKED_BYTES + 1)
            )
        assert refused(out.getvalue()).code == "statement_zip_too_large"

    def test_a_zip_that_is_not_a_workbook_is_refused(self) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "hello")
        assert refused(out.getvalue()).code == "statement_not_spreadsheet"

    def test_a_damaged_workbook_is_refused(self) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("xl/workbook.xml", "<not really")
        assert refused(out.getvalue()).code == "statement_unreadable"


class TestRefused:
    @pytest.mark.parametrize(
        ("row", "message"),
        [
            (["2026-02-30", "B1", "", "1.00", "", ""], "Line 5 of the statement: The date is not a date"),
            (["", "B1", "", "1.00", "", ""], "Line 5 of the statement: The date is not a date"),
            (
                ["2026-03-02", "B1", "", "1.0.0", "", ""],
                "Line 5 of the statement: The amount is not a number",
            ),
            (
                ["2026-03-02", "B1", "", "1.234", "", ""],
                "Line 5 of the statement: The amount has more than two",
            ),
            (
                ["2026-03-02", "B1", "", "12,34.00", "", ""],
                "Line 5 of the statement: The amount is not a number",
            ),
            (["2026-03-02", "B1", "", "1.00", "2.00", ""], "Line 5 of the statement: The row has both"),
            (["2026-03-02", "B1", "", "", "", "5"], "Line 5 of the statement: The row has no amount"),
            (
                ["2026-03-02", "", "", "1.00", "", ""],
                "Line 5 of the statement: The outgoing transfer has no bank",
            ),
            (
                ["2026-03-02", "B" * 65, "", "1.00", "", ""],
                "Line 5 of the statement: The bank reference is longer",
            ),
        ],
    )
    def test_a_bad_row_is_refused_naming_its_line(self, row: list[str], message: str) -> None:
        error = refused(csv_bytes([["2026-03-01", "B0", "", "1.00", "", ""], row]))
        assert error.messages[0].startswith(message.replace("Line 5", "Line 6"))

    def test_a_missing_header_is_refused(self) -> None:
        error = refused(csv_bytes(ROWS, header=["日期", "摘要", "金额"]))
        assert error.code == "statement_header"
        assert "header row" in error.messages[0]

    def test_a_header_without_rows_is_refused(self) -> None:
        assert refused(csv_bytes([])).code == "statement_no_lines"

    @pytest.mark.parametrize("content", [b"", b"  \r\n"])
    def test_an_empty_file_is_refused(self, content: bytes) -> None:
        assert refused(content).messages == ["The file is empty."]

    def test_a_file_over_the_limit_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(statement_formats, "MAX_STATEMENT_BYTES", 100)
        assert refused(csv_bytes(ROWS)).messages == ["The file is larger than 10 MB."]

    def test_too_many_rows_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(statement_formats, "MAX_STATEMENT_ROWS", 2)
        assert refused(csv_bytes(ROWS)).code == "statement_too_many_rows"

    @pytest.mark.parametrize(
        ("content", "code"),
        [
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "statement_not_spreadsheet"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "statement_xls"),
            (b"\xff\xfe\xfa\xfb hello", "statement_encoding"),
        ],
        ids=["png", "xls", "binary"],
    )
    def test_a_file_that_is_not_a_spreadsheet_is_refused(self, content: bytes, code: str) -> None:
        assert refused(content).code == code

    def test_plain_text_is_refused_for_its_missing_header(self) -> None:
        assert refused("这不是对账单\n只是一段文字\n".encode()).code == "statement_header"

    def test_the_reason_is_translated(self) -> None:
        with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
            parse_statement(b"")
        assert info.value.messages  # the text comes from the catalogue (filled by the lead)


class TestSeparators:
    @pytest.mark.parametrize("separator", ["\t", ";"])
    def test_tab_and_semicolon_separated_files_are_read(self, separator: str) -> None:
        text = "\r\n".join(
            separator.join(record)
            for record in [
                ["交易日期", "流水号", "借方金额", "贷方金额"],
                ["2026-03-02", "B1", "1,234.56", ""],
            ]
        )
        assert parse_statement(text.encode("gbk")).lines == [
            ParsedLine(2, date(2026, 3, 2), 123_456, "B1", "")
        ]
