"""The sandbox channel.

The cashier is our own page at /pay/sandbox/<out_trade_no>/; its "pay" button
calls `SandboxChannel.pay`, which records the trade and returns a notification
signed like a real channel's, to be POSTed to the order's notify URL. That
notification then takes exactly the path of a real one: `verify_notification`
checks HMAC-SHA256 over "timestamp\\nnonce\\nbody\\n" with RENDAO_PAYMENT_SANDBOX_KEY,
refuses timestamps more than 5 minutes off, and returns the nonce for the caller
to store uniquely. The sandbox "gateway" keeps its own books (orders, payments,
refunds, the daily bill) in a small SQLite file of its own, DATA_DIR/
payment_sandbox.sqlite3, apart from our database as a real channel's are: every
process on the machine shares it, and each change is one IMMEDIATE transaction,
so two web workers paying the same order at once make one payment, one bill row.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.utils import timezone

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

BILL_HEADER = ["out_trade_no", "txn_id", "kind", "amount_fen", "time", "out_refund_no"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS trade (
    out_trade_no TEXT PRIMARY KEY, amount_fen INTEGER NOT NULL, state TEXT NOT NULL,
    txn_id TEXT, paid_at TEXT);
CREATE TABLE IF NOT EXISTS refund (
    out_refund_no TEXT PRIMARY KEY, out_trade_no TEXT NOT NULL, amount_fen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bill (
    id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL, out_trade_no TEXT NOT NULL,
    txn_id TEXT NOT NULL, kind TEXT NOT NULL, amount_fen INTEGER NOT NULL, time TEXT NOT NULL,
    out_refund_no TEXT NOT NULL);
"""


def gateway_path() -> Path:
    return Path(settings.DATA_DIR) / "payment_sandbox.sqlite3"


_local = threading.local()


def _connection() -> sqlite3.Connection:
    """This thread's connection to the sandbox's books, opened once (per process and path).

    Opening and closing per call cost ~7 ms (closing the last connection of a WAL
    database checkpoints it): more than the donation it served.
    """
    path = gateway_path()
    key = (os.getpid(), str(path))
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None or getattr(_local, "key", None) != key or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        # Demo books: WAL without a sync per commit is durable enough and keeps
        # the sandbox from adding an fsync to every donation in a benchmark.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        _local.db, _local.key = db, key
    return db


@contextmanager
def _gateway() -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction on the sandbox's own books (committed on success)."""
    db = _connection()
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def gateway_reset() -> None:
    """Forget every sandbox trade (tests)."""
    with _gateway() as db:
        db.execute("DELETE FROM trade")
        db.execute("DELETE FROM refund")
        db.execute("DELETE FROM bill")


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The sandbox signature: hex HMAC-SHA256 over timestamp, nonce and body, one per line."""
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class SandboxChannel:
    name = "sandbox"
    # As long as the real channels, so that demo refunds follow the same rule.
    REFUND_WINDOW_DAYS = 365

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

    def create_order(
        self, *, order_ref: str, amount_fen: int, description: str, notify_url: str, client: ClientInfo
    ) -> Checkout:
        if amount_fen <= 0:
            raise PermanentChannelError("sandbox: the amount must be positive")
        with _gateway() as db:
            row = db.execute("SELECT amount_fen FROM trade WHERE out_trade_no = ?", (order_ref,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO trade (out_trade_no, amount_fen, state) VALUES (?, ?, 'not_paid')",
                    (order_ref, amount_fen),
                )
            elif row[0] != amount_fen:
                raise PermanentChannelError("sandbox: the order exists with another amount")
        return Checkout(kind=CheckoutKind.REDIRECT, url=f"/pay/sandbox/{order_ref}/")

    def pay(self, out_trade_no: str, *, payer_ref: str = "sandbox-payer") -> tuple[dict[str, str], bytes]:
        """The cashier's "pay" button: record the payment, return (headers, body) of its notification.

        Calling it twice returns a second, freshly signed notification of the
        same payment (a duplicate delivery the caller must absorb).
        """
        with _gateway() as db:
            trade = _trade(db, out_trade_no)
            if trade is None:
                raise PermanentChannelError("sandbox: no such order")
            if trade["state"] == "closed":
                raise PermanentChannelError("sandbox: the order is closed")
            if trade["state"] == "not_paid":
                paid_at = datetime.fromtimestamp(payments.clock(), UTC)
                trade.update(state="paid", txn_id=f"SBX{secrets.token_hex(12)}", paid_at=paid_at.isoformat())
                db.execute(
                    "UPDATE trade SET state = 'paid', txn_id = ?, paid_at = ? WHERE out_trade_no = ?",
                    (trade["txn_id"], trade["paid_at"], out_trade_no),
                )
                _bill_add(
                    db,
                    paid_at,
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
        with _gateway() as db:
            trade = _trade(db, out_trade_no)
        if trade is None:
            return TradeStatus(out_trade_no, TradeState.NOT_FOUND)
        state = TradeState(trade["state"])
        return TradeStatus(
            out_trade_no,
            state,
            channel_txn_id=trade["txn_id"] or "",
            amount_fen=trade["amount_fen"],
            paid_at=datetime.fromisoformat(trade["paid_at"]) if trade["paid_at"] else None,
        )

    def close(self, out_trade_no: str) -> None:
        with _gateway() as db:
            trade = _trade(db, out_trade_no)
            if trade is None:
                raise PermanentChannelError("sandbox: no such order")
            if trade["state"] != "not_paid":
                raise PermanentChannelError("sandbox: the order is paid and cannot be closed")
            db.execute("UPDATE trade SET state = 'closed' WHERE out_trade_no = ?", (out_trade_no,))

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int
    ) -> RefundResult:
        with _gateway() as db:
            trade = _trade(db, out_trade_no)
            if trade is None or trade["state"] not in {"paid", "refunded"}:
                raise PermanentChannelError("sandbox: the order is not paid")
            if total_fen != trade["amount_fen"] or amount_fen <= 0:
                raise PermanentChannelError("sandbox: the amounts do not match the order")
            refunds = dict(
                db.execute(
                    "SELECT out_refund_no, amount_fen FROM refund WHERE out_trade_no = ?", (out_trade_no,)
                ).fetchall()
            )
            if out_refund_no in refunds:
                if refunds[out_refund_no] != amount_fen:
                    raise PermanentChannelError("sandbox: the refund number was used with another amount")
            else:
                if db.execute("SELECT 1 FROM refund WHERE out_refund_no = ?", (out_refund_no,)).fetchone():
                    raise PermanentChannelError("sandbox: the refund number belongs to another order")
                if sum(refunds.values()) + amount_fen > trade["amount_fen"]:
                    raise PermanentChannelError("sandbox: the refunds would exceed the amount paid")
                db.execute(
                    "INSERT INTO refund (out_refund_no, out_trade_no, amount_fen) VALUES (?, ?, ?)",
                    (out_refund_no, out_trade_no, amount_fen),
                )
                db.execute("UPDATE trade SET state = 'refunded' WHERE out_trade_no = ?", (out_trade_no,))
                now = datetime.fromtimestamp(payments.clock(), UTC)
                _bill_add(
                    db,
                    now,
                    [out_trade_no, trade["txn_id"], "refund", amount_fen, now.isoformat(), out_refund_no],
                )
        return RefundResult(out_refund_no, RefundState.SUCCESS, f"SBXR-{out_refund_no}", amount_fen)

    def download_bill(self, day: date) -> bytes:
        """CSV, UTF-8, header row then one row per payment or refund of that day (China time)."""
        with _gateway() as db:
            rows = db.execute(
                "SELECT out_trade_no, txn_id, kind, amount_fen, time, out_refund_no FROM bill"
                " WHERE day = ? ORDER BY id",
                (day.isoformat(),),
            ).fetchall()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(BILL_HEADER)
        writer.writerows(rows)
        return out.getvalue().encode()


def _trade(db: sqlite3.Connection, out_trade_no: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT amount_fen, state, txn_id, paid_at FROM trade WHERE out_trade_no = ?", (out_trade_no,)
    ).fetchone()
    if row is None:
        return None
    return {"amount_fen": row[0], "state": row[1], "txn_id": row[2], "paid_at": row[3]}


def _bill_add(db: sqlite3.Connection, at: datetime, row: list[Any]) -> None:
    db.execute(
        "INSERT INTO bill (day, out_trade_no, txn_id, kind, amount_fen, time, out_refund_no)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        # Billed under the day in China, as WeChat Pay and Alipay bill.
        (timezone.localtime(at).date().isoformat(), *row),
    )


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
