"""The sandbox's bill: the CSV `SandboxChannel.download_bill` writes.

UTF-8, a header row (`BILL_HEADER`), then one row per payment or refund:
out_trade_no, txn_id, kind ("pay" | "refund"), amount in fen, ISO time with its
offset, and the refund number (empty for a payment). No summary line.
"""

from __future__ import annotations

import csv
from datetime import datetime

from rendao.funds.payments.bills import BillFormatError, BillRow, check_size, decode
from rendao.funds.payments.sandbox.adapter import BILL_HEADER


def parse_bill(raw: bytes) -> list[BillRow]:
    check_size(raw)
    lines = decode(raw, "utf-8").splitlines()
    reader = csv.reader(lines)
    if next(reader, None) != BILL_HEADER:
        raise BillFormatError("header", line=1)
    rows: list[BillRow] = []
    for number, fields in enumerate(reader, start=2):
        if not fields:
            continue
        if len(fields) != len(BILL_HEADER):
            raise BillFormatError("fields", line=number, detail=f"expected {len(BILL_HEADER)}")
        out_trade_no, txn_id, kind, amount, at, out_refund_no = fields
        if kind not in ("pay", "refund"):
            raise BillFormatError("kind", line=number)
        if not out_trade_no or not txn_id or (kind == "refund") != bool(out_refund_no):
            raise BillFormatError("missing", line=number)
        if not amount.isascii() or not amount.isdigit() or int(amount) <= 0:
            raise BillFormatError("amount_fen", line=number)
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise BillFormatError("time", line=number) from None
        if moment.tzinfo is None:
            raise BillFormatError("time", line=number)
        rows.append(
            BillRow(
                kind="pay" if kind == "pay" else "refund",
                out_trade_no=out_trade_no,
                channel_txn_id=txn_id,
                amount_fen=int(amount),
                at=moment,
                out_refund_no=out_refund_no,
                # What SandboxChannel.refund answers as the refund's id.
                channel_refund_id=f"SBXR-{out_refund_no}" if out_refund_no else "",
                line=number,
            )
        )
    return rows
