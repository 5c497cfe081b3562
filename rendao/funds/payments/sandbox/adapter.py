"""The sandbox channel.

The cashier is our own page at /pay/sandbox/<out_trade_no>/; its "pay" button
calls `SandboxChannel.pay`, which records the trade and returns a notification
signed like a real channel's, to be POSTed to the order's notify URL. That
notification then takes exactly the path of a real one: `verify_notification`
checks HMAC-SHA256 over "timestamp\\nnonce\\nbody\\n" with RENDAO_PAYMENT_SANDBOX_KEY,
refuses timestamps more than 5 minutes off, and returns the nonce for the caller
to store uniquely. The sandbox "gateway" state (orders, payments, refunds) lives
in the Django cache, which every process on the machine shares; it is demo data.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.checks import CheckMessage

from rendao.funds import payments
from rendao.funds.payments import (
    Checkout,
    CheckoutKind,
    ClientInfo,
    ForgedNotification,
    MalformedNotification,
    PermanentChannelError,
    RefundResult,
    RefundState,
    Reply,
    TradeState,
    TradeStatus,
    VerifiedPayment,
)
from rendao.funds.payments.sandbox import checks

# Sandbox trades are kept this long in the cache (longer than any demo run).
STATE_SECONDS = 400 * 86400
BILL_HEADER = ["out_trade_no", "txn_id", "kind", "amount_fen", "time", "out_refund_no"]


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The sandbox signature: hex HMAC-SHA256 over timestamp, nonce and body, one per line."""
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _key(what: str, ref: str) -> str:
    return f"rendao:paysandbox:{what}:{hashlib.sha256(ref.encode()).hexdigest()[:32]}"


class SandboxChannel:
    name = "sandbox"

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

    def create_order(
        self, *, order_ref: str, amount_fen: int, description: str, notify_url: str, client: ClientInfo
    ) -> Checkout:
        if amount_fen <= 0:
            raise PermanentChannelError("sandbox: the amount must be positive")
        trade = cache.get(_key("trade", order_ref))
        if trade is None:
            cache.set(
                _key("trade", order_ref), {"amount_fen": amount_fen, "state": "not_paid"}, STATE_SECONDS
            )
        elif trade["amount_fen"] != amount_fen:
            raise PermanentChannelError("sandbox: the order exists with another amount")
        return Checkout(kind=CheckoutKind.REDIRECT, url=f"/pay/sandbox/{order_ref}/")

    def pay(self, out_trade_no: str, *, payer_ref: str = "sandbox-payer") -> tuple[dict[str, str], bytes]:
        """The cashier's "pay" button: record the payment, return (headers, body) of its notification.

        Calling it twice returns a second, freshly signed notification of the
        same payment (a duplicate delivery the caller must absorb).
        """
        trade = cache.get(_key("trade", out_trade_no))
        if trade is None:
            raise PermanentChannelError("sandbox: no such order")
        if trade["state"] == "closed":
            raise PermanentChannelError("sandbox: the order is closed")
        if trade["state"] == "not_paid":
            paid_at = datetime.fromtimestamp(payments.clock(), UTC)
            trade.update(state="paid", txn_id=f"SBX{secrets.token_hex(12)}", paid_at=paid_at.isoformat())
            cache.set(_key("trade", out_trade_no), trade, STATE_SECONDS)
            self._bill_add(
                paid_at.date(),
                [out_trade_no, trade["txn_id"], "pay", trade["amount_fen"], trade["paid_at"], ""],
            )
        body = json.dumps(
            {
                "out_trade_no": out_trade_no,
                "txn_id": trade["txn_id"],
                "amount_fen": trade["amount_fen"],
                "paid_at": trade["paid_at"],
                "payer_ref": payer_ref,
                "status": "SUCCESS",
            },
            separators=(",", ":"),
        ).encode()
        return self.signed_headers(body), body

    @staticmethod
    def signed_headers(body: bytes, *, key: str | None = None, at: float | None = None) -> dict[str, str]:
        timestamp = str(int(payments.clock() if at is None else at))
        nonce = secrets.token_hex(16)
        signature = sign(settings.PAYMENT_SANDBOX_KEY if key is None else key, timestamp, nonce, body)
        return {"X-Sandbox-Timestamp": timestamp, "X-Sandbox-Nonce": nonce, "X-Sandbox-Signature": signature}

    def verify_notification(self, headers: Mapping[str, str], raw_body: bytes) -> VerifiedPayment:
        h = payments.lower_headers(headers)
        timestamp = h.get("x-sandbox-timestamp", "")
        nonce = h.get("x-sandbox-nonce", "")
        signature = h.get("x-sandbox-signature", "")
        if not (timestamp.isdigit() and nonce and signature):
            raise MalformedNotification("sandbox: signature headers missing")
        expected = sign(settings.PAYMENT_SANDBOX_KEY, timestamp, nonce, raw_body)
        if not hmac.compare_digest(expected, signature):
            raise ForgedNotification("sandbox: bad signature")
        if abs(payments.clock() - int(timestamp)) > payments.MAX_SKEW_SECONDS:
            raise ForgedNotification("sandbox: timestamp more than 5 minutes off")
        try:
            data = json.loads(raw_body)
            payment = VerifiedPayment(
                channel=self.name,
                out_trade_no=_text(data["out_trade_no"]),
                channel_txn_id=_text(data["txn_id"]),
                amount_fen=_fen(data["amount_fen"]),
                paid_at=_aware(data["paid_at"]),
                payer_ref=_text(data["payer_ref"]),
                nonce=nonce,
            )
            if data["status"] != "SUCCESS":
                raise ValueError("status")
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedNotification(f"sandbox: malformed body ({type(exc).__name__})") from None
        return payment

    def notification_reply(self, ok: bool) -> Reply:
        return Reply(200 if ok else 400, "text/plain; charset=utf-8", b"OK" if ok else b"FAIL")

    def query(self, out_trade_no: str) -> TradeStatus:
        trade = cache.get(_key("trade", out_trade_no))
        if trade is None:
            return TradeStatus(out_trade_no, TradeState.NOT_FOUND)
        state = TradeState(trade["state"])
        return TradeStatus(
            out_trade_no,
            state,
            channel_txn_id=trade.get("txn_id", ""),
            amount_fen=trade["amount_fen"],
            paid_at=datetime.fromisoformat(trade["paid_at"]) if "paid_at" in trade else None,
        )

    def close(self, out_trade_no: str) -> None:
        trade = cache.get(_key("trade", out_trade_no))
        if trade is None:
            raise PermanentChannelError("sandbox: no such order")
        if trade["state"] != "not_paid":
            raise PermanentChannelError("sandbox: the order is paid and cannot be closed")
        trade["state"] = "closed"
        cache.set(_key("trade", out_trade_no), trade, STATE_SECONDS)

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int
    ) -> RefundResult:
        trade = cache.get(_key("trade", out_trade_no))
        if trade is None or trade["state"] not in {"paid", "refunded"}:
            raise PermanentChannelError("sandbox: the order is not paid")
        if total_fen != trade["amount_fen"] or amount_fen <= 0:
            raise PermanentChannelError("sandbox: the amounts do not match the order")
        refunds: dict[str, int] = trade.setdefault("refunds", {})
        if out_refund_no in refunds:
            if refunds[out_refund_no] != amount_fen:
                raise PermanentChannelError("sandbox: the refund number was used with another amount")
        else:
            if sum(refunds.values()) + amount_fen > trade["amount_fen"]:
                raise PermanentChannelError("sandbox: the refunds would exceed the amount paid")
            refunds[out_refund_no] = amount_fen
            trade["state"] = "refunded"
            cache.set(_key("trade", out_trade_no), trade, STATE_SECONDS)
            now = datetime.fromtimestamp(payments.clock(), UTC)
            self._bill_add(
                now.date(),
                [out_trade_no, trade["txn_id"], "refund", amount_fen, now.isoformat(), out_refund_no],
            )
        return RefundResult(out_refund_no, RefundState.SUCCESS, f"SBXR-{out_refund_no}", amount_fen)

    def download_bill(self, day: date) -> bytes:
        """CSV, UTF-8, header row then one row per payment or refund of that (UTC) day."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(BILL_HEADER)
        writer.writerows(cache.get(_key("bill", day.isoformat()), []))
        return out.getvalue().encode()

    def _bill_add(self, day: date, row: list[Any]) -> None:
        # Not atomic across processes: the sandbox bill is demo data, and the
        # reconciliation that reads it is what would show a lost row.
        rows = cache.get(_key("bill", day.isoformat()), [])
        rows.append(row)
        cache.set(_key("bill", day.isoformat()), rows, STATE_SECONDS)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError("text")
    return value


def _fen(value: Any) -> int:
    if type(value) is not int or value <= 0:
        raise ValueError("amount")
    return value


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment
