"""Bank statement files built in the tests: CSV text in an encoding, or an .xlsx workbook."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook

HEADER = ["交易日期", "流水号", "对方户名", "借方金额", "贷方金额", "余额"]
PREAMBLE = [["账号", "3502 0000 0000 0000"], ["起止日期", "2026-03-01 至 2026-03-31"], []]


def csv_bytes(
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8",
    bom: bool = False,
    preamble: bool = True,
) -> bytes:
    records = [*(PREAMBLE if preamble else []), list(header), *rows]
    text = "\r\n".join(",".join(_field(value) for value in record) for record in records) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _field(value: object) -> str:
    text = "" if value is None else str(value)
    return f'"{text}"' if "," in text else text


def xlsx_bytes(rows: Sequence[Sequence[object]], *, header: Sequence[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for record in [*PREAMBLE, list(header), *rows]:
        sheet.append(list(record))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
