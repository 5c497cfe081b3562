"""Reading a bank statement file (CSV or XLSX) into its outgoing transfers.

Chinese banks export account statements (账户明细) as CSV, in UTF-8 (with or
without a byte-order mark) or GBK, or as Excel workbooks, with a few lines of
preamble (account number, period) before the header row. We look for the header
row within the first `HEADER_SEARCH_ROWS` rows and recognise the columns by the
names in `COLUMNS` (Chinese and English; case, spaces and a unit in brackets such
as "借方金额(元)" do not matter). Three amount layouts are understood:

- a debit and a credit column (借方金额 / 贷方金额, 支出金额 / 收入金额): a value in
  the debit column is money that left the account;
- one amount column and a direction column (借贷标志: 借 / 贷, D / C, debit / credit);
- one signed amount column: negative amounts left the account.

Only outgoing (debit) rows matter for disbursements; incoming rows are counted
and skipped, so they need no reference. Amounts are exact: text such as
"1,234.56" or "1234.5" and Excel numbers (which openpyxl hands over as floats)
go through Decimal(str(value)) and more than two decimals is refused, never
rounded.

A file that does not have this shape is refused whole with a translated
ValidationError naming the line (CSV) or row (XLSX) and the problem: a
reconciliation of half a statement would report differences that are not there.
Messages quote no counterparty names or references (only dates and amounts), so
they are safe in logs.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# A branch's monthly statement is far below these; larger input is refused before parsing.
MAX_STATEMENT_BYTES = 10 * 1024 * 1024
MAX_STATEMENT_ROWS = 100_000
# An .xlsx is a ZIP archive: what it unpacks to is checked before openpyxl opens it,
# so a small file cannot expand into gigabytes of XML (a zip bomb).
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_XLSX_MEMBERS = 1000
HEADER_SEARCH_ROWS = 10
REFERENCE_MAX = 64
COUNTERPARTY_MAX = 200

DATE = "date"
DEBIT = "debit"
CREDIT = "credit"
AMOUNT = "amount"
DIRECTION = "direction"
REFERENCE = "reference"
COUNTERPARTY = "counterparty"

# Column role → header names recognised (normalised: lower case, no spaces, no unit in brackets).
COLUMNS: dict[str, tuple[str, ...]] = {
    DATE: (
        "交易日期",
        "记账日期",
        "入账日期",
        "交易时间",
        "记账时间",
        "date",
        "bookingdate",
        "bookedon",
        "transactiondate",
        "valuedate",
    ),
    DEBIT: ("借方金额", "支出金额", "借方发生额", "付款金额", "支出", "debit", "debitamount", "withdrawal"),
    CREDIT: ("贷方金额", "收入金额", "贷方发生额", "收款金额", "收入", "credit", "creditamount", "deposit"),
    AMOUNT: ("交易金额", "发生额", "金额", "amount"),
    DIRECTION: ("借贷标志", "借贷方向", "收支方向", "方向", "direction", "debit/credit", "dc"),
    REFERENCE: (
        "流水号",
        "交易流水号",
        "凭证号",
        "业务参考号",
        "银行流水号",
        "reference",
        "bankreference",
        "transactionreference",
        "ref",
    ),
    COUNTERPARTY: (
        "对方户名",
        "对方账户名称",
        "对方名称",
        "收款人名称",
        "收款方户名",
        "counterparty",
        "payee",
    ),
}
_LOOKUP = {name: role for role, names in COLUMNS.items() for name in names}
_OUT_WORDS = {"借", "借方", "支出", "付", "d", "dr", "debit", "out"}
_IN_WORDS = {"贷", "贷方", "收入", "收", "c", "cr", "credit", "in"}
_SUMMARY_WORDS = ("合计", "总计", "小计", "本页合计", "total")
_UNIT = re.compile(r"[（(][^()（）]*[)）]$")
_AMOUNT = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")

# reason → the reader's text; the code of the ValidationError is "statement_<reason>".
REASONS: dict[str, Promise] = {
    "empty": gettext_lazy("The file is empty."),
    "too_large": gettext_lazy("The file is larger than 10 MB."),
    "too_many_rows": gettext_lazy("The statement has more than 100,000 rows."),
    "not_spreadsheet": gettext_lazy("The file is neither a CSV file nor an Excel workbook (.xlsx)."),
    "xls": gettext_lazy("Old Excel files (.xls) are not read: save the statement as .xlsx or CSV."),
    "zip_too_large": gettext_lazy("The workbook unpacks to more than 100 MB or holds too many parts."),
    "unreadable": gettext_lazy("The workbook is damaged or encrypted."),
    "encoding": gettext_lazy("The file is not text in UTF-8 or GBK."),
    "header": gettext_lazy(
        "No header row with a date, a reference and debit/credit amounts was found in the first 10 rows."
    ),
    "date": gettext_lazy("The date is not a date such as 2026-03-01."),
    "amount": gettext_lazy("The amount is not a number of yuan such as 1,234.56."),
    "decimals": gettext_lazy("The amount has more than two decimals."),
    "both": gettext_lazy("The row has both a debit and a credit amount."),
    "no_amount": gettext_lazy("The row has no amount."),
    "direction": gettext_lazy("The debit/credit mark is neither debit nor credit."),
    "reference": gettext_lazy("The outgoing transfer has no bank reference."),
    "reference_long": gettext_lazy("The bank reference is longer than 64 characters."),
    "no_lines": gettext_lazy("The statement lists no transactions."),
}


@dataclass(frozen=True)
class ParsedLine:
    """One outgoing transfer as the statement states it."""

    line_no: int
    booked_on: date
    amount_fen: int
    reference: str
    counterparty: str


@dataclass
class ParsedStatement:
    kind: str  # "csv" or "xlsx"
    lines: list[ParsedLine] = field(default_factory=list)
    incoming_count: int = 0


def refuse(reason: str, *, line: int = 0, row: bool = False) -> ValidationError:
    """The ValidationError for `reason`, naming the line (CSV) or row (XLSX) when known."""
    text = str(REASONS[reason])
    code = f"statement_{reason}"
    if not line:
        return ValidationError(text, code=code)
    if row:
        return ValidationError(
            _("Row %(line)s of the statement: %(reason)s"), code=code, params={"line": line, "reason": text}
        )
    return ValidationError(
        _("Line %(line)s of the statement: %(reason)s"), code=code, params={"line": line, "reason": text}
    )


def _norm(header: object) -> str:
    text = "" if header is None else str(header)
    text = "".join(text.split()).lower().lstrip("\ufeff")
    return _UNIT.sub("", text)


def _clean(value: object) -> object:
    """Undo what spreadsheets add to keep long numbers as text: a leading ' or `, ="…"."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text.lstrip("'`\t").strip()


def _header_map(cells: Sequence[object]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        role = _LOOKUP.get(_norm(cell))
        if role is not None and role not in found:
            found[role] = index
    has_amounts = (DEBIT in found and CREDIT in found) or AMOUNT in found
    if DATE in found and REFERENCE in found and has_amounts:
        return found
    return None


def fen_of(value: object, *, line: int, row: bool) -> int:
    """Exact fen of an amount in yuan (text or an Excel number); 0 for an empty cell."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise refuse("amount", line=line, row=row)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # str() gives the shortest text that reads back as the same float, i.e.
        # what Excel showed ("1234.56"), never its binary approximation.
        number = _decimal(str(value), line=line, row=row)
    elif isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().lstrip("¥￥").strip()
        if not text or text in {"-", "--"}:
            return 0
        if not _AMOUNT.fullmatch(text):
            raise refuse("amount", line=line, row=row)
        number = _decimal(text.replace(",", ""), line=line, row=row)
    if not number.is_finite():
        raise refuse("amount", line=line, row=row)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise refuse("decimals", line=line, row=row)
    fen = number * 100
    if abs(fen) >= 10**15:
        raise refuse("amount", line=line, row=row)
    return int(fen)


def _decimal(text: str, *, line: int, row: bool) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise refuse("amount", line=line, row=row) from None


def date_of(value: object, *, line: int, row: bool) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise refuse("date", line=line, row=row)
    # "2026-03-01 10:22:33": the time does not matter, the booking day does.
    text = value.strip().split()[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar day, no time
        except ValueError:
            continue
    raise refuse("date", line=line, row=row)


def _cell(cells: Sequence[object], columns: dict[str, int], role: str) -> object:
    index = columns.get(role)
    if index is None or index >= len(cells):
        return None
    return _clean(cells[index])


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _is_summary(cells: Sequence[object]) -> bool:
    first = next((_text(c) for c in cells if _text(c)), "")
    return first.lower().startswith(_SUMMARY_WORDS)


def _outgoing(cells: Sequence[object], columns: dict[str, int], *, line: int, row: bool) -> int | None:
    """The fen that left the account on this row, or None for an incoming row."""
    if DEBIT in columns and CREDIT in columns:
        # Some banks write their debits as negative numbers: the column says the direction.
        debit = abs(fen_of(_cell(cells, columns, DEBIT), line=line, row=row))
        credit = abs(fen_of(_cell(cells, columns, CREDIT), line=line, row=row))
        if debit and credit:
            raise refuse("both", line=line, row=row)
        if not debit and not credit:
            raise refuse("no_amount", line=line, row=row)
        return debit or None
    amount = fen_of(_cell(cells, columns, AMOUNT), line=line, row=row)
    if not amount:
        raise refuse("no_amount", line=line, row=row)
    if DIRECTION in columns:
        mark = _text(_cell(cells, columns, DIRECTION)).lower()
        if mark in _OUT_WORDS:
            return abs(amount)
        if mark in _IN_WORDS:
            return None
        raise refuse("direction", line=line, row=row)
    return -amount if amount < 0 else None


def parse_rows(rows: Iterable[tuple[int, Sequence[object]]], *, kind: str) -> ParsedStatement:
    """Read (line or row number, cells) pairs into the statement's outgoing lines."""
    row = kind == "xlsx"
    result = ParsedStatement(kind=kind)
    columns: dict[str, int] | None = None
    seen = 0
    for number, cells in rows:
        seen += 1
        if seen > MAX_STATEMENT_ROWS + HEADER_SEARCH_ROWS:
            raise refuse("too_many_rows")
        if columns is None:
            columns = _header_map(cells)
            if columns is None and seen >= HEADER_SEARCH_ROWS:
                raise refuse("header")
            continue
        if not any(_text(c) for c in cells) or _is_summary(cells):
            continue
        booked_on = date_of(_cell(cells, columns, DATE), line=number, row=row)
        amount = _outgoing(cells, columns, line=number, row=row)
        if amount is None:
            result.incoming_count += 1
            continue
        reference = _text(_cell(cells, columns, REFERENCE))
        if not reference:
            raise refuse("reference", line=number, row=row)
        if len(reference) > REFERENCE_MAX:
            raise refuse("reference_long", line=number, row=row)
        counterparty = _text(_cell(cells, columns, COUNTERPARTY))[:COUNTERPARTY_MAX]
        result.lines.append(ParsedLine(number, booked_on, amount, reference, counterparty))
    if columns is None:
        raise refuse("header")
    if not result.lines and not result.incoming_count:
        raise refuse("no_lines")
    if len(result.lines) + result.incoming_count > MAX_STATEMENT_ROWS:
        raise refuse("too_many_rows")
    return result


# --- CSV ---------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("encoding") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK (and GB2312): what Chinese banks' "ANSI" exports are in.
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise refuse("encoding") from None


def _delimiter(text: str) -> str:
    """The separator with which one of the first rows reads as our header: comma, tab or semicolon."""
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    for delimiter in (",", "\t", ";"):
        try:
            if any(_header_map(record) for record in csv.reader(io.StringIO(head), delimiter=delimiter)):
                return delimiter
        except csv.Error:
            continue
    return ","


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error:
        raise refuse("not_spreadsheet", line=reader.line_num) from None


def parse_csv(content: bytes) -> ParsedStatement:
    if b"\x00" in content[:8192]:
        raise refuse("not_spreadsheet")
    return parse_rows(_csv_rows(_decode(content)), kind="csv")


# --- XLSX --------------------------------------------------------------------------


def _check_archive(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise refuse("not_spreadsheet") from None
    if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > MAX_XLSX_UNPACKED_BYTES:
        raise refuse("zip_too_large")
    if "xl/workbook.xml" not in names:
        raise refuse("not_spreadsheet")
    if any(member.flag_bits & 0x1 for member in members):
        raise refuse("unreadable")


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; all mean the same to finance
        raise refuse("unreadable") from None
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    except ValidationError:
        raise
    except Exception:
        raise refuse("unreadable") from None
    finally:
        workbook.close()


def parse_xlsx(content: bytes) -> ParsedStatement:
    _check_archive(content)
    return parse_rows(_xlsx_rows(content), kind="xlsx")


def parse_statement(content: bytes) -> ParsedStatement:
    """The statement's outgoing lines; ValidationError (nothing read) for anything else."""
    if not content.strip():
        raise refuse("empty")
    if len(content) > MAX_STATEMENT_BYTES:
        raise refuse("too_large")
    if content.startswith(b"PK\x03\x04"):
        return parse_xlsx(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise refuse("xls")
    return parse_csv(content)
