"""Channel bills as the channels write them, built from a few trades (tests only).

`wechat_trade_bill` writes WeChat Pay's trade bill (bill_type=ALL): UTF-8, the
detail header, rows with a ` before every value, the summary header and the
summary row. `alipay_trade_bill` writes Alipay's trade bill: a ZIP whose member
names and CSV contents are GBK, the detail file framed by '#' lines. See the
parsers (rendao/funds/payments/*/bill.py) for the sources of both layouts.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rendao.funds.payments.alipay.bill import HEADER as ALIPAY_HEADER
from rendao.funds.payments.wechatpay.bill import HEADER as WECHAT_HEADER
from rendao.funds.payments.wechatpay.bill import SUMMARY_HEADER as WECHAT_SUMMARY


@dataclass(frozen=True)
class Trade:
    """A payment (refund_no empty) or a refund, as a test wants it in a bill."""

    out_trade_no: str
    txn_id: str
    amount_fen: int
    at: datetime  # China time, naive or aware
    refund_no: str = ""
    refund_id: str = ""


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def wechat_trade_bill(trades: list[Trade], *, summary: dict[str, str] | None = None) -> bytes:
    lines = [",".join(WECHAT_HEADER)]
    totals = dict.fromkeys(WECHAT_SUMMARY, 0)
    for trade in trades:
        refund = bool(trade.refund_no)
        values = dict.fromkeys(WECHAT_HEADER, "")
        values.update(
            {
                "交易时间": trade.at.strftime("%Y-%m-%d %H:%M:%S"),
                "公众账号ID": "wxapp",
                "商户号": "1900000001",
                "特约商户号": "0",
                "微信订单号": trade.txn_id,
                "商户订单号": trade.out_trade_no,
                "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                "交易类型": "JSAPI",
                "交易状态": "REFUND" if refund else "SUCCESS",
                "付款银行": "OTHERS",
                "货币种类": "CNY",
                "应结订单金额": yuan(0 if refund else trade.amount_fen),
                "代金券金额": "0.00",
                "微信退款单号": trade.refund_id if refund else "0",
                "商户退款单号": trade.refund_no if refund else "0",
                "退款金额": yuan(trade.amount_fen if refund else 0),
                "充值券退款金额": "0.00",
                "退款类型": "ORIGINAL" if refund else "",
                "退款状态": "SUCCESS" if refund else "",
                "商品名称": "红十字爱心小书包",
                "手续费": "0.00000",
                "费率": "0.60%",
                "订单金额": yuan(0 if refund else trade.amount_fen),
                "申请退款金额": yuan(trade.amount_fen if refund else 0),
            }
        )
        totals["总交易单数"] += 1
        totals["应结订单总金额"] += 0 if refund else trade.amount_fen
        totals["订单总金额"] += 0 if refund else trade.amount_fen
        totals["退款总金额"] += trade.amount_fen if refund else 0
        totals["申请退款总金额"] += trade.amount_fen if refund else 0
        lines.append(",".join("`" + values[name] for name in WECHAT_HEADER))
    stated = {name: str(value) if name == "总交易单数" else yuan(value) for name, value in totals.items()}
    stated["手续费总金额"] = "0.00000"
    stated.update(summary or {})
    lines.append(",".join(WECHAT_SUMMARY))
    lines.append(",".join("`" + stated[name] for name in WECHAT_SUMMARY))
    return ("\n".join(lines) + "\n").encode()


def alipay_detail_csv(
    trades: list[Trade], *, day: str = "2025年06月15日", totals: tuple[str, str] | None = None
) -> bytes:
    lines = [
        "#支付宝业务明细查询",
        "#账号：[20880000000000000156]",
        f"#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ",".join(ALIPAY_HEADER),
    ]
    pays = refunds = 0
    pay_fen = refund_fen = 0
    for trade in trades:
        refund = bool(trade.refund_no)
        amount = yuan(-trade.amount_fen if refund else trade.amount_fen)
        values = dict.fromkeys(ALIPAY_HEADER, "")
        values.update(
            {
                "支付宝交易号": trade.txn_id,
                "商户订单号": trade.out_trade_no,
                "业务类型": "退款" if refund else "交易",
                "商品名称": "红十字爱心小书包",
                "创建时间": trade.at.strftime("%Y-%m-%d %H:%M:%S"),
                "完成时间": trade.at.strftime("%Y-%m-%d %H:%M:%S"),
                "对方账户": "张**(138****0000)",
                "订单金额（元）": amount,
                "商家实收（元）": amount,
                "支付宝红包（元）": "0.00",
                "集分宝（元）": "0.00",
                "支付宝优惠（元）": "0.00",
                "商家优惠（元）": "0.00",
                "退款批次号/请求号": trade.refund_no,
                "服务费（元）": "0.00",
                "分润（元）": "0.00",
            }
        )
        if refund:
            refunds, refund_fen = refunds + 1, refund_fen + trade.amount_fen
        else:
            pays, pay_fen = pays + 1, pay_fen + trade.amount_fen
        # Alipay pads its values with a tab.
        lines.append(",".join(values[name] + "\t" for name in ALIPAY_HEADER))
    pay_total, refund_total = totals or (
        f"#交易合计：{pays}笔，商家实收共{yuan(pay_fen)}元，商家优惠共0.00元",
        f"#退款合计：{refunds}笔，商家实收退款共{yuan(-refund_fen)}元，商家优惠退款共0.00元",
    )
    lines += [
        "#-----------------------------------------业务明细列表结束------------------------------------",
        pay_total,
        refund_total,
        "#导出时间：[2025年06月16日 09:12:00]",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def gbk_zip(members: dict[str, bytes]) -> bytes:
    """A ZIP whose member names are GBK bytes without the UTF-8 flag, as Alipay's are.

    Python's zipfile writes non-ASCII names as UTF-8 (flag set); so each name is
    written as an ASCII placeholder of the same length and swapped afterwards
    (names are not covered by the CRC).
    """
    out = io.BytesIO()
    swaps = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(members.items()):
            encoded = name.encode("gbk")
            placeholder = f"{index:02d}".encode().ljust(len(encoded), b"~")
            swaps.append((placeholder, encoded))
            archive.writestr(placeholder.decode(), data)
    raw = out.getvalue()
    for placeholder, encoded in swaps:
        raw = raw.replace(placeholder, encoded)
    return raw


def alipay_trade_bill(trades: list[Trade], *, totals: tuple[str, str] | None = None) -> bytes:
    detail = alipay_detail_csv(trades, totals=totals)
    summary = "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n".encode("gbk")
    return gbk_zip(
        {
            "20880000000000000156_20250615_业务明细.csv": detail,
            "20880000000000000156_20250615_业务明细(汇总).csv": summary,
        }
    )
