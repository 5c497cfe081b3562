"""Alipay (RSA2) against a local fake gateway with keys generated here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.test import override_settings

from rendao.funds.payments import (
    ClientInfo,
    ForgedNotification,
    MalformedNotification,
    NotificationIgnored,
    PermanentChannelError,
    TradeState,
    channel_get,
)
from rendao.funds.payments.alipay.adapter import AlipayChannel, sign_content
from rendao.funds.tests.fakes import FakeGateway, private_pem, public_pem, rsa_key

APP_ID, SELLER = "2021000000000001", "2088000000000001"
APP, ALIPAY = rsa_key(), rsa_key()


def rsa2(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def gateway(
    method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    form = dict(parse_qsl(body.decode()))
    signature = form.pop("sign", "")
    try:
        APP.public_key().verify(
            base64.b64decode(signature), sign_content(form).encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except Exception:  # any failure is the gateway's signature error
        node = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
        return 200, {}, json.dumps({"error_response": node}).encode()
    biz = json.loads(form["biz_content"])
    name = form["method"].replace(".", "_") + "_response"
    if form["method"] == "alipay.trade.query" and biz["out_trade_no"] == "AP-404":
        node_text = json.dumps({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"})
    elif form["method"] == "alipay.trade.query":
        node_text = json.dumps(
            {
                "code": "10000",
                "msg": "Success",
                "trade_no": "2025061522001",
                "out_trade_no": biz["out_trade_no"],
                "trade_status": "TRADE_SUCCESS",
                "total_amount": "50.00",
                "send_pay_date": "2025-06-15 10:00:00",
            }
        )
    elif form["method"] == "alipay.trade.refund":
        node_text = json.dumps(
            {"code": "10000", "msg": "Success", "trade_no": "2025061522001", "fund_change": "Y"}
        )
    else:
        node_text = json.dumps(
            {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.INVALID_PARAMETER"}
        )
    return 200, {}, f'{{"{name}":{node_text},"sign":"{rsa2(ALIPAY, node_text)}"}}'.encode()


@pytest.fixture
def alipay(tmp_path: Path) -> Iterator[AlipayChannel]:
    (tmp_path / "app.pem").write_bytes(private_pem(APP))
    (tmp_path / "alipay.pem").write_bytes(public_pem(ALIPAY))
    with (
        FakeGateway(gateway) as fake,
        override_settings(
            PAYMENT_CHANNELS=["alipay"],
            PAYMENT_ALIPAY_GATEWAY=f"{fake.url}/gateway.do",
            PAYMENT_ALIPAY_APP_ID=APP_ID,
            PAYMENT_ALIPAY_SELLER_ID=SELLER,
            PAYMENT_ALIPAY_APP_PRIVATE_KEY_FILE=str(tmp_path / "app.pem"),
            PAYMENT_ALIPAY_PUBLIC_KEY_FILE=str(tmp_path / "alipay.pem"),
        ),
    ):
        yield channel_get("alipay")  # type: ignore[misc]


def notice(key: rsa.RSAPrivateKey = ALIPAY, changes: dict[str, str] | None = None) -> bytes:
    form = {
        "notify_id": "nid-1",
        "notify_time": "2025-06-15 10:00:05",
        "notify_type": "trade_status_sync",
        "app_id": APP_ID,
        "seller_id": SELLER,
        "out_trade_no": "AP-1",
        "trade_no": "2025061522001",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "50.00",
        "buyer_id": "2088100",
        "gmt_payment": "2025-06-15 10:00:00",
        "charset": "utf-8",
        "version": "1.0",
    }
    form.update(changes or {})
    form["sign"] = rsa2(key, sign_content(form))
    form["sign_type"] = "RSA2"
    return urlencode(form).encode()


def test_the_page_pay_url_is_signed_with_the_app_key(alipay: AlipayChannel) -> None:
    checkout = alipay.create_order(
        order_ref="AP-1", amount_fen=5001, description="gift", notify_url="https://x/n", client=ClientInfo()
    )
    params = dict(parse_qsl(urlsplit(checkout.url).query))
    signature = params.pop("sign")
    APP.public_key().verify(
        base64.b64decode(signature), sign_content(params).encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert json.loads(params["biz_content"])["total_amount"] == "50.01"
    assert params["method"] == "alipay.trade.page.pay"


def test_a_notification_signed_by_alipay_is_accepted_and_answered_success(alipay: AlipayChannel) -> None:
    payment = alipay.verify_notification({}, notice())
    assert (payment.out_trade_no, payment.amount_fen, payment.nonce) == ("AP-1", 5000, "nid-1")
    assert payment.paid_at.utcoffset() is not None
    assert alipay.notification_reply(True).body == b"success"


def test_a_notification_signed_with_the_apps_own_key_is_refused(alipay: AlipayChannel) -> None:
    with pytest.raises(ForgedNotification):
        alipay.verify_notification({}, notice(APP))


@pytest.mark.parametrize("changes", [{"app_id": "2021999"}, {"seller_id": "2088999"}])
def test_a_notification_for_another_app_or_seller_is_refused(
    alipay: AlipayChannel, changes: dict[str, str]
) -> None:
    with pytest.raises(ForgedNotification):
        alipay.verify_notification({}, notice(changes=changes))


def test_tampered_malformed_and_unpaid_notifications(alipay: AlipayChannel) -> None:
    with pytest.raises(ForgedNotification):
        alipay.verify_notification({}, notice().replace(b"total_amount=50.00", b"total_amount=99.00"))
    with pytest.raises(MalformedNotification):
        alipay.verify_notification({}, b"\xff\xfe")
    with pytest.raises(MalformedNotification):
        alipay.verify_notification({}, notice(changes={"total_amount": "5.001"}))
    with pytest.raises(NotificationIgnored):
        alipay.verify_notification({}, notice(changes={"trade_status": "TRADE_CLOSED"}))


def test_query_and_refund_answers_are_verified_with_alipays_key(alipay: AlipayChannel) -> None:
    status = alipay.query("AP-1")
    assert (status.state, status.amount_fen) == (TradeState.PAID, 5000)
    assert alipay.query("AP-404").state == TradeState.NOT_FOUND
    assert (
        alipay.refund(out_trade_no="AP-1", out_refund_no="R1", amount_fen=100, total_fen=5000).amount_fen
        == 100
    )
    with pytest.raises(PermanentChannelError):
        alipay.close("AP-1")
