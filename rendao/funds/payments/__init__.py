"""Payment channels: adapters behind one interface, and the registry of them.

One folder per channel under this package, each with the same files (see
README.md for the checklist). The adapters are protocol code only: they build
orders, verify notifications and talk to the channel's API, and know nothing of
donations, orders or the journal. The caller (the donation services) owns state:
it stores `VerifiedPayment.nonce` uniquely to refuse replays, makes
(channel, channel_txn_id) unique, and decides what a verified payment changes.

Errors, and what the caller does with them:
- `TransientChannelError`: network trouble, a 5xx, the channel's own "system
  busy": try again later (the sweeper queries again);
- `PermanentChannelError`: the channel refused the request as written (no such
  order, refund over the paid amount): retrying the same call cannot help;
- `ForgedNotification`: a signature, key, timestamp or account check failed: log
  a security event, change nothing, answer failure;
- `MalformedNotification`: the body or headers cannot be parsed: change nothing,
  answer failure;
- `NotificationIgnored`: genuine, but not a completed payment (e.g. Alipay's
  TRADE_CLOSED): change nothing, answer success so the channel stops resending.

Texts of these errors never contain payer data (openid, buyer ids): they go to
logs and to staff pages.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from django.conf import settings
from django.core.checks import CheckMessage
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

# Notifications whose timestamp is further than this from our clock are refused:
# a captured notification cannot be replayed later, and the caller only has to
# remember nonces for this long. WeChat Pay documents the same 5 minutes.
MAX_SKEW_SECONDS = 300


def clock() -> float:
    """Seconds since the epoch; tests replace it to move time without sleeping."""
    return time.time()


class PaymentError(Exception):
    """Base of every error an adapter raises. The text names no payer."""


class ChannelError(PaymentError):
    """A call to the channel's API failed."""


class TransientChannelError(ChannelError):
    """May succeed later: network trouble, 5xx, the channel's "system busy"."""


class PermanentChannelError(ChannelError):
    """Refused as written; retrying the same call cannot help."""


class NotificationRejected(PaymentError):
    """An incoming notification must change nothing and be answered with failure."""


class ForgedNotification(NotificationRejected):
    """Signature, key, timestamp, probe or account check failed: a security event."""


class MalformedNotification(NotificationRejected):
    """Headers or body cannot be parsed as the channel's notification."""


class NotificationIgnored(PaymentError):
    """Genuine, but not a completed payment: change nothing, answer success."""


class CheckoutKind(enum.StrEnum):
    """What the page does with a created order."""

    REDIRECT = "redirect"  # send the browser to `url` (sandbox cashier, Alipay, WeChat H5)
    JSAPI = "jsapi"  # call WeixinJSBridge getBrandWCPayRequest with `params`
    QR = "qr"  # show `url` as a QR code to scan (WeChat Native)


@dataclass(frozen=True)
class ClientInfo:
    """Who is paying and how: what the channel needs to pick the cashier."""

    # The payer's IP address (WeChat H5 requires it).
    ip: str = ""
    # "jsapi" (inside WeChat), "h5" (mobile browser), "native" (desktop, QR),
    # "page" (Alipay desktop), "wap" (Alipay mobile); "" lets the channel choose.
    scene: str = ""
    # The payer's openid under our app id (WeChat JSAPI only).
    openid: str = ""
    # Where Alipay sends the browser after paying (a page of ours).
    return_url: str = ""


@dataclass(frozen=True)
class Checkout:
    """What the page needs to let the donor pay."""

    kind: CheckoutKind
    url: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedPayment:
    """A notification that passed every check: this order was paid this much."""

    channel: str
    out_trade_no: str
    channel_txn_id: str
    amount_fen: int
    paid_at: datetime
    # The payer's id at the channel (openid, Alipay buyer id): personal data, never log it.
    payer_ref: str
    # The notification's nonce (or id): store it uniquely to refuse replays.
    nonce: str = ""


class TradeState(enum.StrEnum):
    """The channel's view of an order, mapped to ours."""

    NOT_PAID = "not_paid"  # created, not (yet) paid
    PAID = "paid"
    REFUNDED = "refunded"  # paid, then (partly) refunded
    CLOSED = "closed"  # closed unpaid, or fully refunded (Alipay)
    NOT_FOUND = "not_found"  # the channel has never heard of it


@dataclass(frozen=True)
class TradeStatus:
    """Answer of `query`."""

    out_trade_no: str
    state: TradeState
    channel_txn_id: str = ""
    amount_fen: int = 0
    paid_at: datetime | None = None


class RefundState(enum.StrEnum):
    SUCCESS = "success"
    PROCESSING = "processing"  # ask again later (WeChat refunds are asynchronous)


@dataclass(frozen=True)
class RefundResult:
    out_refund_no: str
    state: RefundState
    channel_refund_id: str = ""
    amount_fen: int = 0


@dataclass(frozen=True)
class Reply:
    """The HTTP answer to a notification, exactly as the channel expects it."""

    status: int
    content_type: str
    body: bytes


class PaymentChannel(Protocol):
    """The interface every payment adapter implements."""

    name: str
    # Days after payment within which the channel still accepts a refund; the
    # refund services refuse later ones rather than ask (see each adapter).
    REFUND_WINDOW_DAYS: int

    def create_order(
        self, *, order_ref: str, amount_fen: int, description: str, notify_url: str, client: ClientInfo
    ) -> Checkout:
        """Register the order with the channel (`order_ref` is our out_trade_no,
        so a retry after a crash finds the same order) and say how the page pays."""
        ...

    def verify_notification(self, headers: Mapping[str, str], raw_body: bytes) -> VerifiedPayment:
        """Every check on an asynchronous notification, or ForgedNotification /
        MalformedNotification / NotificationIgnored. `headers` may use any case."""
        ...

    def notification_reply(self, ok: bool) -> Reply:
        """The answer that stops (ok) or invites (not ok) the channel's retries."""
        ...

    def query(self, out_trade_no: str) -> TradeStatus: ...

    def close(self, out_trade_no: str) -> None: ...

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int
    ) -> RefundResult:
        """Refund `amount_fen` of an order of `total_fen`; idempotent by out_refund_no."""
        ...

    def download_bill(self, day: date) -> bytes:
        """The channel's bill of all trades on `day` (its own format, raw bytes)."""
        ...

    def check_settings(self) -> list[CheckMessage]:
        """System-check messages about this channel's configuration."""
        ...


# Channel name → dotted path of its class. Adding a channel adds one line here.
CHANNELS: dict[str, str] = {
    "sandbox": "rendao.funds.payments.sandbox.adapter.SandboxChannel",
    "wechatpay": "rendao.funds.payments.wechatpay.adapter.WeChatPayChannel",
    "alipay": "rendao.funds.payments.alipay.adapter.AlipayChannel",
}


# What donors and staff read for each channel.
CHANNEL_LABELS: dict[str, str | Promise] = {
    "sandbox": gettext_lazy("Sandbox (demo payments)"),
    "wechatpay": gettext_lazy("WeChat Pay"),
    "alipay": gettext_lazy("Alipay"),
}


def channel_get(name: str) -> PaymentChannel:
    """An instance of the channel called `name`; KeyError if unknown or not enabled.

    Only channels listed in RENDAO_PAYMENT_CHANNELS may be used, so that a
    notification posted to the URL of a disabled channel is never verified.
    """
    if name not in CHANNELS or name not in settings.PAYMENT_CHANNELS:
        raise KeyError(name)
    channel: PaymentChannel = import_string(CHANNELS[name])()
    return channel


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names in lower case (Django's request.headers, WSGI or a dict)."""
    return {key.lower().replace("_", "-"): value for key, value in headers.items()}
