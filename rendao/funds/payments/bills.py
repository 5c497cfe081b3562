"""What every channel's bill parser returns, and the error it raises.

Each channel folder has a `bill.py` with `parse_bill(raw: bytes) -> list[BillRow]`
that reads the channel's own daily trade bill (its format, its encoding) into
these rows. The parsers are protocol code like the adapters: they know nothing of
donations; `rendao.funds.reconciliation` compares the rows with our records.

A bill that does not have the expected shape is refused whole with
`BillFormatError`: a reconciliation on half a bill would report differences that
are not there. The error carries a reason code and the line, so the service can
say it in the reader's language; `str()` is an English text for logs and commands.
Error texts quote no field values other than amounts and dates (a bill holds
payer ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from rendao.funds.payments import PaymentError

# Both channels write their bills in China time, and a bill's day is a China day.
CHINA = ZoneInfo("Asia/Shanghai")
# A day's bill of a city society is far below this; anything larger is refused
# before it is parsed (an upload form or a channel answer can be anything).
MAX_BILL_BYTES = 50 * 1024 * 1024

_YUAN = re.compile(r"-?\d{1,12}(\.\d{1,2})?")


@dataclass(frozen=True)
class BillRow:
    """One payment or refund as the channel's bill states it."""

    kind: Literal["pay", "refund"]
    out_trade_no: str
    channel_txn_id: str
    # Always positive: a refund's amount is the money returned.
    amount_fen: int
    at: datetime
    out_refund_no: str = ""
    channel_refund_id: str = ""
    # Line of the bill (1-based) the row came from, for the difference notes.
    line: int = 0


# reason → English text; the service has the translated texts under the same codes.
REASONS: dict[str, str] = {
    "empty": "the bill is empty",
    "too_large": "the bill is larger than 50 MB",
    "encoding": "the bill is not text in the channel's encoding",
    "header": "the header is not the one this channel's bill starts with",
    "fields": "the line does not have the expected number of fields",
    "backtick": "a field lacks the ` the channel puts in front of every value",
    "amount": "an amount is not a number of yuan with at most two decimals",
    "amount_fen": "an amount is not a whole positive number of fen",
    "amount_sign": "an amount has the wrong sign for its kind of row",
    "time": "a time is not in the channel's format",
    "kind": "the kind of row is neither a payment nor a refund",
    "missing": "a required field is empty",
    "summary_missing": "the summary at the end of the bill is missing",
    "summary_mismatch": "the summary does not agree with the rows",
    "trailing": "there is text after the summary",
    "not_zip": "the file is not a ZIP archive",
    "zip_too_large": "the archive unpacks to more than 50 MB or holds too many files",
    "zip_unreadable": "the archive is damaged or encrypted",
    "zip_no_detail": "the archive holds no 业务明细 (trade detail) file",
}


class BillFormatError(PaymentError):
    """The bill does not have the shape of this channel's bill; nothing was read from it."""

    def __init__(self, reason: str, *, line: int = 0, detail: str = "") -> None:
        self.reason = reason if reason in REASONS else "header"
        self.line = line
        # A field name, an expected count…: never a payer's data.
        self.detail = detail
        text = REASONS[self.reason]
        if detail:
            text = f"{text} ({detail})"
        super().__init__(f"line {line}: {text}" if line else text)


def yuan_fen(text: str, *, line: int, column: str) -> int:
    """Exact fen of an amount written in yuan ("12.30", "-0.01"); never through a float."""
    value = text.strip()
    if not _YUAN.fullmatch(value):
        raise BillFormatError("amount", line=line, detail=column)
    fen = Decimal(value) * 100
    # Two decimals at most (the regex), so this is a whole number.
    return int(fen)


def china_time(text: str, *, line: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> datetime:
    try:
        naive = datetime.strptime(text.strip(), fmt)  # noqa: DTZ007 - the bill's times are China time
    except ValueError:
        raise BillFormatError("time", line=line) from None
    return naive.replace(tzinfo=CHINA)


def check_size(raw: bytes) -> None:
    if not raw.strip():
        raise BillFormatError("empty")
    if len(raw) > MAX_BILL_BYTES:
        raise BillFormatError("too_large")


def decode(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise BillFormatError("encoding") from None
    return text.removeprefix("\ufeff")
