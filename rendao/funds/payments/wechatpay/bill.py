"""WeChat Pay's trade bill (交易账单), bill_type=ALL, as GET /v3/bill/tradebill serves it.

Source: WeChat Pay's "交易账单文件格式说明" (pay.weixin.qq.com/docs/merchant/products/
bill-download/format-trade.html) and the v2 "下载交易账单" page (/pay/downloadbill):
- UTF-8 text, fields separated by ASCII commas, four parts: the detail header, the
  detail rows, the summary header, one summary row;
- every value of the detail and summary rows is prefixed with one ` (so Excel
  does not turn long numbers into scientific notation);
- amounts are in yuan with two decimals; times are "yyyy-MM-dd HH:mm:ss" China time;
- a payment's row (交易状态 SUCCESS) is dated when it was paid; a refund's row
  (交易状态 REFUND) when the refund was accepted, and carries the original order's
  微信订单号 and 商户订单号 with 微信退款单号 and 商户退款单号.

Where the documents left us unsure, we chose the strict reading and say so:
- an empty value: we accept a lone ` or nothing at all;
- 总交易单数: we read it as the number of detail rows, payments and refunds together;
- the summary's money columns are checked as the sums of the detail column of the
  same name (应结订单金额, 退款金额, 订单金额, 申请退款金额), whatever a refund row
  puts in a payment column; 手续费 (five decimals in some bills) is not checked;
- a payment's amount is 订单金额 (what the donor was asked for, before any
  voucher), a refund's is 申请退款金额 (what we asked to refund); without vouchers
  they equal 应结订单金额 and 退款金额.
- other states (REVOKED, for card-reader payments we do not use) are refused.
"""

from __future__ import annotations

import csv

from rendao.funds.payments.bills import (
    BillFormatError,
    BillRow,
    check_size,
    china_time,
    decode,
    yuan_fen,
)

HEADER = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
]
SUMMARY_HEADER = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
]
COL = {name: index for index, name in enumerate(HEADER)}
# Detail column summed → summary column it must equal.
SUMS = {
    "应结订单金额": "应结订单总金额",
    "退款金额": "退款总金额",
    "订单金额": "订单总金额",
    "申请退款金额": "申请退款总金额",
}


def _values(fields: list[str], line: int) -> list[str]:
    values = []
    for field in fields:
        if field and not field.startswith("`"):
            raise BillFormatError("backtick", line=line)
        values.append(field[1:].strip())
    return values


def parse_bill(raw: bytes) -> list[BillRow]:
    check_size(raw)
    lines = decode(raw, "utf-8").splitlines()
    records = list(csv.reader(lines))
    if not records or [name.strip() for name in records[0]] != HEADER:
        raise BillFormatError("header", line=1)
    rows: list[BillRow] = []
    sums = dict.fromkeys(SUMS, 0)
    summary_at = 0
    for index, fields in enumerate(records[1:], start=2):
        if not fields or fields == [""]:
            continue
        if fields[0].strip() == SUMMARY_HEADER[0]:
            summary_at = index
            break
        if len(fields) != len(HEADER):
            raise BillFormatError("fields", line=index, detail=f"expected {len(HEADER)}")
        values = _values(fields, index)
        for column in SUMS:
            sums[column] += yuan_fen(values[COL[column]], line=index, column=column)
        rows.append(_row(values, index))
    if not summary_at:
        raise BillFormatError("summary_missing")
    _check_summary(records, summary_at, rows, sums)
    return rows


def _row(values: list[str], line: int) -> BillRow:
    state = values[COL["交易状态"]]
    if state not in ("SUCCESS", "REFUND"):
        raise BillFormatError("kind", line=line, detail="交易状态")
    out_trade_no, txn_id = values[COL["商户订单号"]], values[COL["微信订单号"]]
    if not out_trade_no or not txn_id:
        raise BillFormatError("missing", line=line)
    at = china_time(values[COL["交易时间"]], line=line)
    if state == "SUCCESS":
        amount = yuan_fen(values[COL["订单金额"]], line=line, column="订单金额")
        if amount <= 0:
            raise BillFormatError("amount_sign", line=line, detail="订单金额")
        return BillRow("pay", out_trade_no, txn_id, amount, at, line=line)
    out_refund_no, refund_id = values[COL["商户退款单号"]], values[COL["微信退款单号"]]
    if not out_refund_no or not refund_id:
        raise BillFormatError("missing", line=line)
    amount = yuan_fen(values[COL["申请退款金额"]], line=line, column="申请退款金额")
    if amount <= 0:
        raise BillFormatError("amount_sign", line=line, detail="申请退款金额")
    return BillRow("refund", out_trade_no, txn_id, amount, at, out_refund_no, refund_id, line=line)


def _check_summary(records: list[list[str]], at: int, rows: list[BillRow], sums: dict[str, int]) -> None:
    # `at` is the 1-based line of the summary header; records[at - 1] is that line.
    if [name.strip() for name in records[at - 1]] != SUMMARY_HEADER:
        raise BillFormatError("summary_missing", line=at)
    rest = [fields for fields in records[at:] if fields and fields != [""]]
    if not rest:
        raise BillFormatError("summary_missing", line=at + 1)
    if len(rest) > 1:
        raise BillFormatError("trailing", line=at + 2)
    if len(rest[0]) != len(SUMMARY_HEADER):
        raise BillFormatError("fields", line=at + 1, detail=f"expected {len(SUMMARY_HEADER)}")
    summary = dict(zip(SUMMARY_HEADER, _values(rest[0], at + 1), strict=True))
    count = summary["总交易单数"]
    if not (count.isascii() and count.isdigit()) or int(count) != len(rows):
        raise BillFormatError("summary_mismatch", line=at + 1, detail=f"总交易单数, {len(rows)} rows")
    for column, total in SUMS.items():
        stated = yuan_fen(summary[total], line=at + 1, column=total)
        if stated != sums[column]:
            raise BillFormatError("summary_mismatch", line=at + 1, detail=total)
