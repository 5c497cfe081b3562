"""WeChat Pay API v3 against a local fake gateway with keys generated here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import override_settings

from rendao.funds import payments
from rendao.funds.payments import (
    CheckoutKind,
    ClientInfo,
    ForgedNotification,
    MalformedNotification,
    NotificationIgnored,
    PermanentChannelError,
    RefundState,
    TradeState,
    channel_get,
)
from rendao.funds.payments.wechatpay.adapter import WeChatPayChannel
from rendao.funds.tests.fakes import private_pem, public_pem, rsa_key
from rendao.funds.tests.fakes.wechatpay import BILL, FakeWeChatPay, notification

NOW = 1_750_000_000.0
MCH, APP, SERIAL, V3 = "1900000001", "wxapp", "PUB_KEY_ID_01", "v" * 32
MERCHANT, PLATFORM, OTHER = rsa_key(), rsa_key(), rsa_key()


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeChatPay]:
    monkeypatch.setattr(payments, "clock", lambda: NOW)
    (tmp_path / "mch.pem").write_bytes(private_pem(MERCHANT))
    (tmp_path / "pub.pem").write_bytes(public_pem(PLATFORM))
    gateway = FakeWeChatPay(
        merchant_public=MERCHANT.public_key(), platform=PLATFORM, serial=SERIAL, mch_id=MCH
    )
    with (
        gateway,
        override_settings(
            PAYMENT_CHANNELS=["wechatpay"],
            PAYMENT_WECHATPAY_API=gateway.url,
            PAYMENT_WECHATPAY_MCH_ID=MCH,
            PAYMENT_WECHATPAY_APP_ID=APP,
            PAYMENT_WECHATPAY_MCH_SERIAL_NO="MCHSERIAL",
            PAYMENT_WECHATPAY_MCH_PRIVATE_KEY_FILE=str(tmp_path / "mch.pem"),
            PAYMENT_WECHATPAY_API_V3_KEY=V3,
            PAYMENT_WECHATPAY_PLATFORM_KEYS=[f"{SERIAL}={tmp_path / 'pub.pem'}"],
        ),
    ):
        # The fake signs its answers with the real time; our clock follows it there.
        monkeypatch.setattr(payments, "clock", __import__("time").time)
        yield gateway


def txn(**changes: Any) -> dict[str, Any]:
    data = {
        "appid": APP,
        "mchid": MCH,
        "out_trade_no": "WX-1",
        "transaction_id": "4200001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "success_time": "2025-06-15T10:00:00+08:00",
        "payer": {"openid": "o-payer"},
        "amount": {"total": 5000, "payer_total": 5000, "currency": "CNY", "payer_currency": "CNY"},
    }
    data.update(changes)
    return data


def wechat() -> WeChatPayChannel:
    return channel_get("wechatpay")  # type: ignore[return-value]


def test_jsapi_native_and_h5_orders_are_signed_and_accepted_by_the_gateway(fake: FakeWeChatPay) -> None:
    client = ClientInfo(scene="jsapi", openid="o-payer")
    checkout = wechat().create_order(
        order_ref="WX-1", amount_fen=5000, description="gift", notify_url="https://x/n", client=client
    )
    assert checkout.kind == CheckoutKind.JSAPI
    assert checkout.params["package"] == "prepay_id=wx-prepay-1"
    p = checkout.params
    MERCHANT.public_key().verify(
        base64.b64decode(p["paySign"]),
        f"{p['appId']}\n{p['timeStamp']}\n{p['nonceStr']}\n{p['package']}\n".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert fake.orders["WX-1"]["amount"] == {"total": 5000, "currency": "CNY"}
    native = wechat().create_order(
        order_ref="WX-2", amount_fen=1, description="g", notify_url="https://x/n", client=ClientInfo()
    )
    assert native.kind == CheckoutKind.QR
    assert native.url.startswith("weixin://")
    h5 = wechat().create_order(
        order_ref="WX-3",
        amount_fen=1,
        description="g",
        notify_url="https://x/n",
        client=ClientInfo(scene="h5", ip="1.2.3.4"),
    )
    assert h5.kind == CheckoutKind.REDIRECT


def test_query_close_refund_and_bill_go_through_the_signed_api(fake: FakeWeChatPay) -> None:
    wechat().create_order(
        order_ref="WX-1", amount_fen=5000, description="g", notify_url="https://x/n", client=ClientInfo()
    )
    status = wechat().query("WX-1")
    assert (status.state, status.amount_fen, status.channel_txn_id) == (TradeState.PAID, 5000, "4200001")
    assert wechat().query("WX-404").state == TradeState.NOT_FOUND
    wechat().close("WX-1")
    refund = wechat().refund(out_trade_no="WX-1", out_refund_no="R1", amount_fen=100, total_fen=5000)
    assert refund.state == RefundState.PROCESSING
    assert refund.channel_refund_id == "5030001"
    with pytest.raises(PermanentChannelError):
        wechat().refund(out_trade_no="WX-1", out_refund_no="R2", amount_fen=9000, total_fen=5000)
    assert wechat().download_bill(date(2025, 6, 15)) == BILL


def test_a_merchant_request_signed_with_another_key_is_refused_by_the_gateway(
    fake: FakeWeChatPay, tmp_path: Path
) -> None:
    (tmp_path / "other.pem").write_bytes(private_pem(OTHER))
    other = str(tmp_path / "other.pem")
    with (
        override_settings(PAYMENT_WECHATPAY_MCH_PRIVATE_KEY_FILE=other),
        pytest.raises(PermanentChannelError, match="SIGN_ERROR"),
    ):
        wechat().query("WX-1")


def test_a_genuine_notification_is_decrypted_and_verified(fake: FakeWeChatPay) -> None:
    headers, body = notification(PLATFORM, SERIAL, V3.encode(), txn(), at=payments.clock())
    payment = wechat().verify_notification(headers, body)
    assert (payment.out_trade_no, payment.channel_txn_id, payment.amount_fen) == ("WX-1", "4200001", 5000)
    assert payment.nonce == headers["Wechatpay-Nonce"]
    assert payment.payer_ref == "o-payer"
    assert wechat().notification_reply(True).status == 200
    assert json.loads(wechat().notification_reply(False).body)["code"] == "FAIL"


@pytest.mark.parametrize(
    "case",
    [
        "bad signature",
        "wrong key",
        "unknown serial",
        "probe",
        "skew",
        "tampered ciphertext",
        "wrong v3 key",
        "amount",
        "mchid",
        "appid",
    ],
)
def test_every_forged_notification_is_refused(fake: FakeWeChatPay, case: str) -> None:
    now = payments.clock()
    key, serial, v3, data, at = PLATFORM, SERIAL, V3.encode(), txn(), now
    if case == "wrong key":
        key = OTHER
    elif case == "unknown serial":
        serial = "PUB_KEY_ID_99"
    elif case == "skew":
        at = now - 301
    elif case == "wrong v3 key":
        v3 = b"w" * 32
    elif case == "mchid":
        data = txn(mchid="1900000999")
    elif case == "appid":
        data = txn(appid="wxother")
    headers, body = notification(key, serial, v3, data, at=at)
    if case == "bad signature":
        body = body.replace(b"EV-1", b"EV-2")
    elif case == "probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    elif case == "tampered ciphertext":
        envelope = json.loads(body)
        raw = bytearray(base64.b64decode(envelope["resource"]["ciphertext"]))
        raw[0] ^= 1
        envelope["resource"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
        body = json.dumps(envelope).encode()
        headers = notification(PLATFORM, SERIAL, v3, data, at=at)[
            0
        ]  # fresh headers: re-sign the tampered body
        from rendao.funds.tests.fakes.wechatpay import sign

        headers["Wechatpay-Signature"] = sign(
            PLATFORM, headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body
        )
    if case == "amount":
        # Signed and decrypted, a different amount is genuine: the caller compares it with the order.
        headers, body = notification(PLATFORM, SERIAL, v3, txn(amount={"total": 1, "currency": "CNY"}), at=at)
        assert wechat().verify_notification(headers, body).amount_fen == 1
        return
    with pytest.raises(ForgedNotification):
        wechat().verify_notification(headers, body)


def test_malformed_and_unpaid_notifications_are_refused_or_ignored(fake: FakeWeChatPay) -> None:
    now = payments.clock()
    from rendao.funds.tests.fakes.wechatpay import sign

    body = b"{not json"
    headers = {
        "Wechatpay-Timestamp": str(int(now)),
        "Wechatpay-Nonce": "n",
        "Wechatpay-Serial": SERIAL,
        "Wechatpay-Signature": sign(PLATFORM, str(int(now)), "n", body),
    }
    with pytest.raises(MalformedNotification):
        wechat().verify_notification(headers, body)
    with pytest.raises(MalformedNotification):
        wechat().verify_notification({}, b"{}")
    headers, body = notification(PLATFORM, SERIAL, V3.encode(), txn(trade_state="NOTPAY"), at=now)
    with pytest.raises(NotificationIgnored):
        wechat().verify_notification(headers, body)
