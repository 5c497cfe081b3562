"""The channels' bill parsers: realistic bills read exactly, wrong ones refused by line."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime

import pytest

from rendao.funds import payments
from rendao.funds.payments.alipay.bill import parse_bill as alipay_parse
from rendao.funds.payments.bills import CHINA, BillFormatError, BillRow
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.payments.sandbox.bill import parse_bill as sandbox_parse
from rendao.funds.payments.wechatpay.adapter import WeChatPayChannel
from rendao.funds.payments.wechatpay.bill import parse_bill as wechat_parse
from rendao.funds.tests.fakes.bills import (
    Trade,
    alipay_detail_csv,
    alipay_trade_bill,
    gbk_zip,
    wechat_trade_bill,
)
from rendao.funds.tests.fakes.wechatpay import BILL, FakeWeChatPay
from rendao.funds.tests.test_payment_wechatpay import fake, wechat  # noqa: F401 - the fake gateway fixture

Parser = Callable[[bytes], list[BillRow]]
AT = datetime(2025, 6, 15, 10, 0)  # noqa: DTZ001 - China time, as the bills write it
PAID = Trade("RD20250615-1", "4200000001202506150001", 12_345, AT)
REFUND = Trade("RD20250615-1", "4200000001202506150001", 2_345, AT.replace(hour=15), "RF-1", "5030000001")
DETAIL = "20880000000000000156_20250615_业务明细.csv"


def refused(parse: Parser, raw: bytes) -> BillFormatError:
    with pytest.raises(BillFormatError) as caught:
        parse(raw)
    return caught.value


# --- sandbox ------------------------------------------------------------------------------


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> SandboxChannel:
    # 10:00 in Shanghai is 02:00 UTC: the same date either way.
    monkeypatch.setattr(payments, "clock", lambda: datetime(2025, 6, 15, 10, tzinfo=CHINA).timestamp())
    return SandboxChannel()


@pytest.mark.django_db
def test_the_sandbox_bill_of_a_payment_and_a_refund_reads_back(sandbox: SandboxChannel) -> None:
    sandbox.create_order(
        order_ref="SBT-BILL", amount_fen=5_000, description="-", notify_url="-", client=payments.ClientInfo()
    )
    sandbox.pay("SBT-BILL")
    sandbox.refund(out_trade_no="SBT-BILL", out_refund_no="SBR-1", amount_fen=1_200, total_fen=5_000)

    rows = sandbox_parse(sandbox.download_bill(date(2025, 6, 15)))

    assert [(r.kind, r.out_trade_no, r.amount_fen, r.out_refund_no) for r in rows] == [
        ("pay", "SBT-BILL", 5_000, ""),
        ("refund", "SBT-BILL", 1_200, "SBR-1"),
    ]
    assert rows[0].channel_txn_id == rows[1].channel_txn_id
    assert rows[1].channel_refund_id == "SBXR-SBR-1"
    assert rows[0].at == datetime(2025, 6, 15, 10, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("raw", "reason", "line"),
    [
        (b"", "empty", 0),
        (b"order,txn,kind\n", "header", 1),
        (b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,pay,12.5,2025-06-15T02:00:00+00:00,\n",
         "amount_fen", 2),
        (b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,pay,-5,2025-06-15T02:00:00+00:00,\n",
         "amount_fen", 2),
        (b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,gift,5,2025-06-15T02:00:00+00:00,\n",
         "kind", 2),
        (b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,pay,5,2025-06-15 02:00,\n",
         "time", 2),
        (b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,refund,5,2025-06-15T02:00:00+00:00,\n",
         "missing", 2),
        (b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\nA,T,pay\n", "fields", 2),
    ],
)  # fmt: skip
def test_a_wrong_sandbox_bill_is_refused_naming_the_line(raw: bytes, reason: str, line: int) -> None:
    error = refused(sandbox_parse, raw)
    assert (error.reason, error.line) == (reason, line)
    assert (f"line {line}: " in str(error)) == bool(line)


# --- WeChat Pay ------------------------------------------------------------------------------


def test_the_wechat_trade_bill_reads_payments_and_refunds_in_exact_fen() -> None:
    rows = wechat_parse(wechat_trade_bill([PAID, REFUND]))

    assert rows == [
        BillRow("pay", PAID.out_trade_no, PAID.txn_id, 12_345, AT.replace(tzinfo=CHINA), line=2),
        BillRow(
            "refund",
            PAID.out_trade_no,
            PAID.txn_id,
            2_345,
            AT.replace(hour=15, tzinfo=CHINA),
            "RF-1",
            "5030000001",
            line=3,
        ),
    ]


def test_the_bill_downloaded_through_the_signed_api_parses(fake: FakeWeChatPay) -> None:  # noqa: F811
    raw = WeChatPayChannel().download_bill(date(2025, 6, 15))

    assert raw == BILL
    assert [(r.kind, r.out_trade_no, r.amount_fen) for r in wechat_parse(raw)] == [
        ("pay", "WX-1", 5_000),
        ("refund", "WX-1", 1_000),
    ]


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted() -> None:
    raw = b"\xef\xbb\xbf" + wechat_trade_bill([PAID]).replace(b"\n", b"\r\n")
    assert [r.amount_fen for r in wechat_parse(raw)] == [12_345]


def _wechat_lines(*trades: Trade) -> list[str]:
    return wechat_trade_bill(list(trades)).decode().splitlines()


def _wechat_with(line: int, old: str, new: str) -> bytes:
    lines = _wechat_lines(PAID, REFUND)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    ("raw", "reason", "line"),
    [
        (b"", "empty", 0),
        (b"   \n\n", "empty", 0),
        ("交易时间,公众账号ID,商户号\n`2025-06-15 10:00:00,`wx,`1\n".encode(), "header", 1),
        (_wechat_with(2, "`123.45", "`1.234"), "amount", 2),
        (_wechat_with(2, "`123.45", "`1e3"), "amount", 2),
        (_wechat_with(2, "`123.45,`0.00,`", "`12,345,`0.00,`"), "fields", 2),
        (_wechat_with(2, "`SUCCESS", "`REVOKED"), "kind", 2),
        (_wechat_with(2, "`SUCCESS", "SUCCESS"), "backtick", 2),
        (_wechat_with(2, "`2025-06-15 10:00:00", "`15/06/2025 10:00"), "time", 2),
        (_wechat_with(3, "`RF-1", "`"), "missing", 3),
        # The summary disagrees with the rows: count, then money.
        (wechat_trade_bill([PAID, REFUND], summary={"总交易单数": "3"}), "summary_mismatch", 5),
        (wechat_trade_bill([PAID], summary={"订单总金额": "123.46"}), "summary_mismatch", 4),
        (wechat_trade_bill([PAID, REFUND], summary={"退款总金额": "0.00"}), "summary_mismatch", 5),
        ("\n".join(_wechat_lines(PAID)[:2]).encode(), "summary_missing", 0),
        ("\n".join(_wechat_lines(PAID)[:3]).encode(), "summary_missing", 4),
        ("\n".join([*_wechat_lines(PAID), "`1,`2"]).encode(), "trailing", 5),
        ("\xff".encode("latin-1") + wechat_trade_bill([PAID]), "encoding", 0),
    ],
)
def test_a_wrong_wechat_bill_is_refused_naming_the_line(raw: bytes, reason: str, line: int) -> None:
    error = refused(wechat_parse, raw)
    assert (error.reason, error.line) == (reason, line)


# --- Alipay -----------------------------------------------------------------------------------


def test_the_alipay_zip_of_gbk_files_reads_payments_and_positive_refunds() -> None:
    rows = alipay_parse(alipay_trade_bill([PAID, REFUND]))

    assert [(r.kind, r.out_trade_no, r.channel_txn_id, r.amount_fen, r.out_refund_no) for r in rows] == [
        ("pay", PAID.out_trade_no, PAID.txn_id, 12_345, ""),
        ("refund", PAID.out_trade_no, PAID.txn_id, 2_345, "RF-1"),
    ]
    assert rows[1].at == AT.replace(hour=15, tzinfo=CHINA)


def test_member_names_flagged_utf8_are_found_too() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(DETAIL, alipay_detail_csv([PAID]))
    assert [r.amount_fen for r in alipay_parse(out.getvalue())] == [12_345]


def _alipay_with(old: str, new: str) -> bytes:
    text = alipay_detail_csv([PAID, REFUND]).decode("gbk")
    assert old in text
    return gbk_zip({DETAIL: text.replace(old, new, 1).encode("gbk")})


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DETAIL, b"0" * (51 * 1024 * 1024))
    return out.getvalue()


def _many_members() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index in range(20):
            archive.writestr(f"{index}.csv", b"#")
    return out.getvalue()


@pytest.mark.parametrize(
    ("raw", "reason", "line"),
    [
        (b"", "empty", 0),
        (wechat_trade_bill([PAID]), "not_zip", 0),
        (b"PK\x03\x04 truncated", "not_zip", 0),
        (_zip_bomb(), "zip_too_large", 0),
        (_many_members(), "zip_too_large", 0),
        (gbk_zip({"20880000000000000156_20250615_业务明细(汇总).csv": b"#"}), "zip_no_detail", 0),
        (gbk_zip({DETAIL: "支付宝交易号,商户订单号\r\n".encode("gbk")}), "header", 1),
        (gbk_zip({DETAIL: "#只有注释\r\n".encode("gbk")}), "header", 0),
        (gbk_zip({DETAIL: b"\x81"}), "encoding", 0),
        (_alipay_with("123.45\t", "1.234\t"), "amount", 6),
        (_alipay_with("-23.45\t", "23.45\t"), "amount_sign", 7),
        (_alipay_with("交易\t", "转账\t"), "kind", 6),
        (_alipay_with("RF-1\t", "\t"), "missing", 7),
        (_alipay_with("#交易合计：1笔", "#交易合计：2笔"), "summary_mismatch", 0),
        (_alipay_with("商家实收共123.45元", "商家实收共123.40元"), "summary_mismatch", 0),
        (_alipay_with("#退款合计：1笔", "#退款：1笔"), "summary_missing", 0),
        (_alipay_with("#导出时间", "after,the,summary\r\n#导出时间"), "trailing", 11),
    ],
)
def test_a_wrong_alipay_bill_is_refused_naming_the_line(raw: bytes, reason: str, line: int) -> None:
    error = refused(alipay_parse, raw)
    assert (error.reason, error.line) == (reason, line)


def test_an_archive_that_inflates_beyond_its_declared_size_is_refused() -> None:
    # A crafted archive may declare a small size: what is read is capped as well.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DETAIL, b"0" * (51 * 1024 * 1024))
    raw = bytearray(out.getvalue())
    # Declared uncompressed size in the central directory entry (offset 24 of it).
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    error = refused(alipay_parse, bytes(raw))
    assert error.reason in {"zip_too_large", "zip_unreadable"}
