"""Alipay's trade bill (bill_type=trade) as alipay.data.dataservice.bill.downloadurl.query
points to it: a ZIP of GBK-encoded CSV files.

Sources: Alipay's open documents on the bill download URL (opendocs.alipay.com,
api_15/alipay.data.dataservice.bill.downloadurl.query and open/204/106262) and
Alipay's answer on developer.aliyun.com/article/707638 ("csv.zip", ANSI = GBK);
the layout below is as published merchant parsers read it (we had no official
field-by-field page to hand, so the checks are strict where we are sure and
say so where we are not):
- the archive holds `<pid>_<yyyymmdd>_业务明细.csv` (one row per trade or refund)
  and `<pid>_<yyyymmdd>_业务明细(汇总).csv` (per-store totals, not read here);
  the member names are GBK bytes without ZIP's UTF-8 flag;
- the detail file starts with comment lines beginning with '#' (#支付宝业务明细查询,
  #账号：[…], #起始日期：[…] 终止日期：[…], #-----业务明细列表-----), then the
  header row, the rows (values often padded with tabs), then '#' lines:
  #-----业务明细列表结束-----, "#交易合计：N笔，商家实收共X元，…",
  "#退款合计：M笔，商家实收退款共-Y元，…", "#导出时间：[…]";
- 业务类型 交易 is a payment, 退款 a refund; a refund's amounts are negative and
  its 退款批次号/请求号 is our refund number (out_request_no). Alipay gives a refund
  no id of its own: channel_refund_id is the trade's 支付宝交易号, as the refund
  API answers it.
- The amount compared is 订单金额（元） (the order's total, before Alipay's own
  discounts); the summary's money is checked against 商家实收（元）.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from rendao.funds.payments.bills import (
    MAX_BILL_BYTES,
    BillFormatError,
    BillRow,
    check_size,
    china_time,
    decode,
    yuan_fen,
)

HEADER = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
]
COL = {name: index for index, name in enumerate(HEADER)}
# A real archive holds two files; a few more would still be harmless.
MAX_MEMBERS = 8
_PAY_TOTAL = re.compile(r"#交易合计[：:]\s*(\d+)\s*笔(?:[，,]\s*商家实收共\s*(-?[\d.]+)\s*元)?")
_REFUND_TOTAL = re.compile(r"#退款合计[：:]\s*(\d+)\s*笔(?:[，,]\s*商家实收退款共\s*(-?[\d.]+)\s*元)?")


def _member_name(info: zipfile.ZipInfo) -> str:
    # Without the UTF-8 flag (bit 11) Python decodes names as cp437; Alipay's are GBK.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def detail_file(raw: bytes) -> bytes:
    """The 业务明细 member of the archive, unpacked within the size limits."""
    check_size(raw)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise BillFormatError("not_zip") from None
    with archive:
        members = archive.infolist()
        # Declared sizes first (cheap), then the bytes actually read, since a
        # crafted archive can declare small sizes and inflate to gigabytes.
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_BILL_BYTES:
            raise BillFormatError("zip_too_large")
        details = [
            m for m in members if _member_name(m).endswith("业务明细.csv") and "汇总" not in _member_name(m)
        ]
        if len(details) != 1:
            raise BillFormatError("zip_no_detail")
        try:
            with archive.open(details[0]) as handle:
                data = handle.read(MAX_BILL_BYTES + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
            # RuntimeError: encrypted; NotImplementedError: unknown compression.
            raise BillFormatError("zip_unreadable") from None
    if len(data) > MAX_BILL_BYTES:
        raise BillFormatError("zip_too_large")
    return data


def parse_bill(raw: bytes) -> list[BillRow]:
    # GB18030 is a superset of GBK, so a GBK file decodes the same.
    lines = decode(detail_file(raw), "gb18030").splitlines()
    rows: list[BillRow] = []
    header_seen = False
    received_fen = {"pay": 0, "refund": 0}
    totals: dict[str, tuple[int, str | None]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            for kind, pattern in (("pay", _PAY_TOTAL), ("refund", _REFUND_TOTAL)):
                match = pattern.match(line.strip())
                if match and header_seen:
                    totals[kind] = (int(match.group(1)), match.group(2))
            continue
        if totals:
            raise BillFormatError("trailing", line=number)
        fields = [field.strip() for field in next(csv.reader([line]))]
        if not header_seen:
            if fields != HEADER:
                raise BillFormatError("header", line=number)
            header_seen = True
            continue
        if len(fields) != len(HEADER):
            raise BillFormatError("fields", line=number, detail=f"expected {len(HEADER)}")
        row = _row(fields, number)
        received_fen[row.kind] += yuan_fen(
            fields[COL["商家实收（元）"]], line=number, column="商家实收（元）"
        )
        rows.append(row)
    if not header_seen:
        raise BillFormatError("header")
    if set(totals) != {"pay", "refund"}:
        raise BillFormatError("summary_missing")
    counts = {kind: sum(1 for row in rows if row.kind == kind) for kind in totals}
    for kind, (count, money) in totals.items():
        if count != counts[kind]:
            raise BillFormatError("summary_mismatch", detail=f"{kind} count")
        if money is not None and yuan_fen(money, line=0, column="合计") != received_fen[kind]:
            raise BillFormatError("summary_mismatch", detail=f"{kind} total")
    return rows


def _row(fields: list[str], line: int) -> BillRow:
    kind = fields[COL["业务类型"]]
    if kind not in ("交易", "退款"):
        raise BillFormatError("kind", line=line, detail="业务类型")
    trade_no, out_trade_no = fields[COL["支付宝交易号"]], fields[COL["商户订单号"]]
    if not trade_no or not out_trade_no:
        raise BillFormatError("missing", line=line)
    at = china_time(fields[COL["完成时间"]], line=line)
    amount = yuan_fen(fields[COL["订单金额（元）"]], line=line, column="订单金额（元）")
    if kind == "交易":
        if amount <= 0:
            raise BillFormatError("amount_sign", line=line, detail="订单金额（元）")
        return BillRow("pay", out_trade_no, trade_no, amount, at, line=line)
    out_refund_no = fields[COL["退款批次号/请求号"]]
    if not out_refund_no:
        raise BillFormatError("missing", line=line)
    if amount >= 0:
        raise BillFormatError("amount_sign", line=line, detail="订单金额（元）")
    return BillRow("refund", out_trade_no, trade_no, -amount, at, out_refund_no, trade_no, line=line)
