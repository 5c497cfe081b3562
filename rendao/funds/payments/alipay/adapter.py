"""Alipay open API with RSA2, using `cryptography` directly (no SDK: see README.md).

Requests: every parameter except `sign`, non-empty, sorted by name and joined as
k=v&k=v without URL encoding, signed SHA256withRSA (PKCS#1 v1.5) with the APP's
private key. Notifications and API answers are verified with ALIPAY's public
key, never the app's own: the app's key is ours, so a notification it verifies
could have been written by anyone holding our server's key, not by Alipay.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.checks import CheckMessage

from rendao.funds import payments
from rendao.funds.payments import (
    Checkout,
    CheckoutKind,
    ClientInfo,
    ForgedNotification,
    MalformedNotification,
    NotificationIgnored,
    PermanentChannelError,
    RefundResult,
    RefundState,
    Reply,
    TradeState,
    TradeStatus,
    TransientChannelError,
    VerifiedPayment,
)
from rendao.funds.payments.alipay import checks
from rendao.funds.payments.http import call
from rendao.funds.payments.rsakeys import load_private_key, load_public_key

# Alipay's timestamps are Beijing time without an offset.
BEIJING = timezone(timedelta(hours=8))
TRADE_STATES = {
    "WAIT_BUYER_PAY": TradeState.NOT_PAID,
    "TRADE_SUCCESS": TradeState.PAID,
    "TRADE_FINISHED": TradeState.PAID,
    "TRADE_CLOSED": TradeState.CLOSED,
}
TRANSIENT_SUB_CODES = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "isp.unknow-error"}


def sign_content(params: Mapping[str, str]) -> str:
    """What Alipay signs: sorted non-empty k=v pairs (the caller leaves out `sign`)."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "")


def yuan(amount_fen: int) -> str:
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def fen(amount: str) -> int:
    """ "12.34" → 1234; anything that is not a positive amount with ≤ 2 decimals → ValueError."""
    try:
        value = Decimal(amount) * 100
    except InvalidOperation:
        raise ValueError("amount") from None
    if value != value.to_integral_value() or value <= 0:
        raise ValueError("amount")
    return int(value)


def _beijing(text: str) -> datetime:
    return datetime.strptime(text + " +0800", "%Y-%m-%d %H:%M:%S %z")


class AlipayChannel:
    name = "alipay"
    # alipay.trade.refund: 交易超过约定时间（签约时设置的可退款时间）的订单无法进行退款;
    # the refundable period set in the merchant contract is usually (and at most)
    # 12 months. Lower this if our contract says less.
    REFUND_WINDOW_DAYS = 365

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

    @cached_property
    def _app_key(self) -> rsa.RSAPrivateKey:
        return load_private_key(settings.PAYMENT_ALIPAY_APP_PRIVATE_KEY_FILE, "alipay: the app key")

    @cached_property
    def _alipay_key(self) -> rsa.RSAPublicKey:
        try:
            return load_public_key(Path(settings.PAYMENT_ALIPAY_PUBLIC_KEY_FILE).read_bytes())
        except ValueError as exc:
            raise PermanentChannelError("alipay: the Alipay public key is not an RSA key") from exc

    def _signed(self, method: str, biz: Mapping[str, Any], **extra: str) -> dict[str, str]:
        params = {
            "app_id": settings.PAYMENT_ALIPAY_APP_ID,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.fromtimestamp(payments.clock(), BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **{k: v for k, v in extra.items() if v},
        }
        signature = self._app_key.sign(sign_content(params).encode(), padding.PKCS1v15(), hashes.SHA256())
        params["sign"] = base64.b64encode(signature).decode()
        return params

    def _verify(self, content: bytes, signature: str) -> bool:
        try:
            self._alipay_key.verify(
                base64.b64decode(signature, validate=True), content, padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def _api(self, method: str, biz: Mapping[str, Any]) -> dict[str, Any]:
        """Call an API method; verify the signature over the raw text of its answer node."""
        what = method.removeprefix("alipay.")
        answer = call(
            what,
            "POST",
            settings.PAYMENT_ALIPAY_GATEWAY,
            body=urlencode(self._signed(method, biz)).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded;charset=utf-8",
                "User-Agent": "rendao",
            },
        )
        if answer.status != 200:
            raise TransientChannelError(f"alipay {what}: HTTP {answer.status}")
        text = answer.body.decode("utf-8", "replace")
        node_name = method.replace(".", "_") + "_response"
        try:
            whole = json.loads(text)
            # The signature covers the node's exact text, so locate it in the raw answer.
            start = text.index(f'"{node_name}"')
            start = text.index(":", start) + 1
            while text[start] in " \t\r\n":
                start += 1
            node, end = json.JSONDecoder().raw_decode(text, start)
        except (ValueError, IndexError):
            raise TransientChannelError(f"alipay {what}: answer is not the expected JSON") from None
        if not isinstance(node, dict):
            raise TransientChannelError(f"alipay {what}: answer is not an object")
        code = str(node.get("code", ""))
        # Gateway-level errors (bad app id, bad signature of ours) come unsigned.
        signed = code == "10000" or "sign" in whole
        if signed and not self._verify(text[start:end].encode(), str(whole.get("sign", ""))):
            raise TransientChannelError(f"alipay {what}: answer not signed by Alipay")
        if code == "10000":
            return node
        sub_code = str(node.get("sub_code", ""))
        if code == "20000" or sub_code in TRANSIENT_SUB_CODES:
            raise TransientChannelError(f"alipay {what}: {code} {sub_code}")
        raise PermanentChannelError(f"alipay {what}: {code} {sub_code}")

    def create_order(
        self, *, order_ref: str, amount_fen: int, description: str, notify_url: str, client: ClientInfo
    ) -> Checkout:
        # Page and wap pay need no server call: the signed URL is the order.
        wap = client.scene in {"wap", "h5"}
        biz = {
            "out_trade_no": order_ref,
            "total_amount": yuan(amount_fen),
            "subject": description[:256],
            "product_code": "QUICK_WAP_WAY" if wap else "FAST_INSTANT_TRADE_PAY",
        }
        params = self._signed(
            "alipay.trade.wap.pay" if wap else "alipay.trade.page.pay",
            biz,
            notify_url=notify_url,
            return_url=client.return_url,
        )
        return Checkout(
            kind=CheckoutKind.REDIRECT, url=f"{settings.PAYMENT_ALIPAY_GATEWAY}?{urlencode(params)}"
        )

    def verify_notification(self, headers: Mapping[str, str], raw_body: bytes) -> VerifiedPayment:
        try:
            form = dict(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise MalformedNotification("alipay: body is not a form") from None
        signature = form.pop("sign", "")
        sign_type = form.pop("sign_type", "")
        if not signature or not form.get("notify_id"):
            raise MalformedNotification("alipay: sign or notify_id missing")
        if sign_type != "RSA2":
            raise ForgedNotification("alipay: sign_type is not RSA2")
        if not self._verify(sign_content(form).encode(), signature):
            raise ForgedNotification("alipay: bad signature")
        if form.get("app_id") != settings.PAYMENT_ALIPAY_APP_ID:
            raise ForgedNotification("alipay: notification for another app")
        if form.get("seller_id") != settings.PAYMENT_ALIPAY_SELLER_ID:
            raise ForgedNotification("alipay: notification for another seller")
        if form.get("trade_status") not in {"TRADE_SUCCESS", "TRADE_FINISHED"}:
            raise NotificationIgnored("alipay: not a successful payment")
        try:
            amount = fen(form["total_amount"])
            paid_at = _beijing(form.get("gmt_payment") or form["notify_time"])
            out_trade_no, trade_no = form["out_trade_no"], form["trade_no"]
            if not (out_trade_no and trade_no):
                raise ValueError("ids")
        except (KeyError, ValueError) as exc:
            raise MalformedNotification(f"alipay: malformed notification ({type(exc).__name__})") from None
        return VerifiedPayment(
            channel=self.name,
            out_trade_no=out_trade_no,
            channel_txn_id=trade_no,
            amount_fen=amount,
            paid_at=paid_at,
            payer_ref=form.get("buyer_open_id") or form.get("buyer_id", ""),
            nonce=form["notify_id"],
        )

    def notification_reply(self, ok: bool) -> Reply:
        # Alipay stops resending only on the exact body "success".
        return Reply(200, "text/plain; charset=utf-8", b"success" if ok else b"fail")

    def query(self, out_trade_no: str) -> TradeStatus:
        try:
            node = self._api("alipay.trade.query", {"out_trade_no": out_trade_no})
        except PermanentChannelError as exc:
            if "TRADE_NOT_EXIST" in str(exc):
                return TradeStatus(out_trade_no, TradeState.NOT_FOUND)
            raise
        state = TRADE_STATES.get(str(node.get("trade_status")))
        if state is None:
            raise TransientChannelError("alipay query: unknown trade_status")
        paid = node.get("send_pay_date")
        return TradeStatus(
            out_trade_no,
            state,
            channel_txn_id=str(node.get("trade_no", "")),
            amount_fen=fen(str(node.get("total_amount", "0.01"))),
            paid_at=_beijing(paid) if paid else None,
        )

    def close(self, out_trade_no: str) -> None:
        self._api("alipay.trade.close", {"out_trade_no": out_trade_no})

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int
    ) -> RefundResult:
        # Alipay takes the refund number as out_request_no; the same number again
        # returns the first refund instead of refunding twice.
        node = self._api(
            "alipay.trade.refund",
            {
                "out_trade_no": out_trade_no,
                "refund_amount": yuan(amount_fen),
                "out_request_no": out_refund_no,
            },
        )
        return RefundResult(out_refund_no, RefundState.SUCCESS, str(node.get("trade_no", "")), amount_fen)

    def download_bill(self, day: date) -> bytes:
        """The trade bill: a zip of GBK CSV files, exactly as Alipay serves it."""
        node = self._api(
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": day.isoformat()},
        )
        url = str(node.get("bill_download_url", ""))
        answer = call("bill download", "GET", url, headers={"User-Agent": "rendao"})
        if answer.status != 200:
            raise TransientChannelError(f"alipay bill download: HTTP {answer.status}")
        return answer.body
