"""Reading intake lines from an Excel workbook (.xlsx) with openpyxl.

The first sheet's first row names the columns, in Chinese or English, in any
order: 物品/Item, 规格/Specification, 单位/Unit, 数量/Quantity, 单价(元)/Unit value
(yuan), 批号/Batch, 有效期/Expires on. Item, unit and quantity are required.
Values become `IntakeLine`s, checked again by intake_record.

Money: a unit value in yuan becomes exact fen through Decimal(str(value)) and
is refused with more than two decimals (never a float multiplied by 100). The
archive is checked for zip bombs from its directory before openpyxl opens it
(the uploads app's check), the workbook is read in read-only mode, and rows
beyond MAX_ROWS are refused. Every error names its row as the spreadsheet
numbers it.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.goods.intake import MAX_LINES, IntakeLine, line_errors
from rendao.uploads.purposes import XLSX, MiB, Purpose, ZipLimits
from rendao.uploads.validation import check_zip

MAX_BYTES = 2 * MiB
MAX_ROWS = MAX_LINES
# Not registered: used only for its limits, as the workbook is read and not stored.
_WORKBOOK = Purpose(
    code="goods_intake_lines",
    label=gettext_lazy("Intake lines"),
    content_types=frozenset({XLSX}),
    max_bytes=MAX_BYTES,
    zip_limits=ZipLimits(max_entries=200, max_uncompressed_bytes=20 * MiB, max_ratio=100),
)

HEADERS: dict[str, str] = {
    "物品": "item_name",
    "物品名称": "item_name",
    "item": "item_name",
    "规格": "specification",
    "specification": "specification",
    "单位": "unit",
    "unit": "unit",
    "数量": "quantity",
    "quantity": "quantity",
    "单价(元)": "unit_value",
    "单价（元）": "unit_value",
    "单价": "unit_value",
    "unit value (yuan)": "unit_value",
    "unit value": "unit_value",
    "批号": "batch",
    "batch": "batch",
    "有效期": "expires_on",
    "有效期至": "expires_on",
    "expires on": "expires_on",
    "expiry": "expires_on",
}
REQUIRED = ("item_name", "unit", "quantity")


def yuan_to_fen(value: object) -> int:
    """Exact fen from a yuan amount (number or text); ValueError if not one."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError("bool")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(str(value)) from exc
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(str(value))
    return int(amount * 100)


def _quantity(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return int(text)


def _date(value: object) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value).strip())


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _header_map(row: tuple[object, ...]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(row):
        key = HEADERS.get(_text(cell).lower().replace(" ", " "))
        if key is not None and key not in columns:
            columns[key] = i
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise ValidationError(
            _(
                "Row 1 must name the columns 物品/Item, 单位/Unit and 数量/Quantity "
                "(and optionally 规格, 单价(元), 批号, 有效期)."
            ),
            code="bad_header",
        )
    return columns


def intake_lines_from_xlsx(upload: IO[bytes]) -> list[IntakeLine]:
    """Parse the workbook into lines, or raise one ValidationError listing every bad row."""
    from openpyxl import load_workbook

    today = timezone.localdate()
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The workbook is larger than 2 MB."), code="too_large")
    buffer = io.BytesIO(data)
    try:
        check_zip(buffer, content_type=XLSX, purpose=_WORKBOOK)
    except ValidationError as exc:
        # The uploads check names a "file" field; here the message is the workbook's.
        raise ValidationError(exc.messages, code="bad_archive") from None
    try:
        workbook = load_workbook(buffer, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(
            _("The file is not a readable Excel workbook (.xlsx)."), code="bad_xlsx"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ValidationError(_("The workbook is empty."), code="empty")
        columns = _header_map(tuple(header))
        lines: list[IntakeLine] = []
        errors: list[str] = []
        for number, row in enumerate(rows, start=2):
            if all(cell is None or _text(cell) == "" for cell in row):
                continue
            if len(lines) + len(errors) >= MAX_ROWS:
                raise ValidationError(_("At most 200 rows of goods per workbook."), code="too_many_rows")

            def cell(key: str, row: tuple[object, ...] = row) -> object:
                i = columns.get(key)
                return row[i] if i is not None and i < len(row) else None

            problems = []
            try:
                quantity = _quantity(cell("quantity"))
            except ValueError:
                problems.append(_("the quantity must be a whole number"))
                quantity = 0
            try:
                unit_value_fen = yuan_to_fen(cell("unit_value"))
            except ValueError:
                problems.append(_("the unit value must be an amount in yuan with at most two decimals"))
                unit_value_fen = 0
            try:
                expires_on = _date(cell("expires_on"))
            except ValueError:
                problems.append(_("the expiry date must be a date like 2026-12-31"))
                expires_on = None
            if problems:
                errors.append(_("Row %(n)s: %(problems)s.") % {"n": number, "problems": "; ".join(problems)})
                continue
            line = IntakeLine(
                item_name=_text(cell("item_name")),
                specification=_text(cell("specification")),
                unit=_text(cell("unit")),
                quantity=quantity,
                unit_value_fen=unit_value_fen,
                batch=_text(cell("batch")),
                expires_on=expires_on,
            )
            # The service checks again; checking here names the spreadsheet's row.
            problems = line_errors(line, received_on=today, today=today)
            if problems:
                errors.append(_("Row %(n)s: %(problems)s.") % {"n": number, "problems": "; ".join(problems)})
                continue
            lines.append(line)
    finally:
        workbook.close()
    if errors:
        raise ValidationError(errors, code="bad_rows")
    if not lines:
        raise ValidationError(_("The workbook has no rows of goods."), code="empty")
    return lines
