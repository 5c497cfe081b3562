"""The sandbox channel: a signed notification through the real verification path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from django.test import override_settings

from rendao.funds import payments
from rendao.funds.payments import (
    CheckoutKind,
    ClientInfo,
    ForgedNotification,
    MalformedNotification,
    PermanentChannelError,
    TradeState,
    channel_get,
)
from rendao.funds.payments.checks import check_payment_channels
from rendao.funds.payments.sandbox.adapter import SandboxChannel

KEY = "k" * 40
NOW = 1_750_000_000.0


@pytest.fixture(autouse=True)
def controlled(monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    monkeypatch.setattr(payments, "clock", lambda: NOW)


@pytest.fixture
def sandbox() -> Iterator[SandboxChannel]:
    with override_settings(PAYMENT_SANDBOX_KEY=KEY, PAYMENT_CHANNELS=["sandbox"]):
        yield channel_get("sandbox")  # type: ignore[misc]


def order(sandbox: SandboxChannel, ref: str, fen: int = 5000) -> None:
    checkout = sandbox.create_order(
        order_ref=ref, amount_fen=fen, description="gift", notify_url="/n/", client=ClientInfo()
    )
    assert checkout.kind == CheckoutKind.REDIRECT
    assert checkout.url == f"/pay/sandbox/{ref}/"


def test_a_paid_order_yields_a_verified_payment_with_its_nonce(sandbox: SandboxChannel) -> None:
    order(sandbox, "SBT-1")
    headers, body = sandbox.pay("SBT-1")
    payment = sandbox.verify_notification(headers, body)
    assert (payment.out_trade_no, payment.amount_fen, payment.nonce) == (
        "SBT-1",
        5000,
        headers["X-Sandbox-Nonce"],
    )
    assert sandbox.query("SBT-1").state == TradeState.PAID
    assert sandbox.notification_reply(True).body == b"OK"


def test_it_refuses_a_tampered_body_a_wrong_key_and_a_skewed_timestamp(sandbox: SandboxChannel) -> None:
    order(sandbox, "SBT-2")
    headers, body = sandbox.pay("SBT-2")
    with pytest.raises(ForgedNotification):
        sandbox.verify_notification(headers, body.replace(b"5000", b"9000"))
    with pytest.raises(ForgedNotification):
        sandbox.verify_notification(SandboxChannel.signed_headers(body, key="x" * 40), body)
    with pytest.raises(ForgedNotification, match="5 minutes"):
        sandbox.verify_notification(SandboxChannel.signed_headers(body, at=NOW - 301), body)
    assert (
        sandbox.verify_notification(SandboxChannel.signed_headers(body, at=NOW - 299), body).amount_fen
        == 5000
    )


def test_it_refuses_malformed_notifications(sandbox: SandboxChannel) -> None:
    with pytest.raises(MalformedNotification):
        sandbox.verify_notification({}, b"{}")
    for body in (b"not json", json.dumps({"out_trade_no": "x", "amount_fen": -1}).encode()):
        with pytest.raises(MalformedNotification):
            sandbox.verify_notification(SandboxChannel.signed_headers(body, key=KEY), body)


def test_refunds_are_idempotent_bounded_and_billed(sandbox: SandboxChannel) -> None:
    order(sandbox, "SBT-3", 1000)
    sandbox.pay("SBT-3")
    sandbox.refund(out_trade_no="SBT-3", out_refund_no="R1", amount_fen=600, total_fen=1000)
    sandbox.refund(out_trade_no="SBT-3", out_refund_no="R1", amount_fen=600, total_fen=1000)
    with pytest.raises(PermanentChannelError):
        sandbox.refund(out_trade_no="SBT-3", out_refund_no="R2", amount_fen=500, total_fen=1000)
    bill = sandbox.download_bill(date.fromtimestamp(NOW)).decode().splitlines()  # noqa: DTZ012 - UTC day of NOW matches
    mine = [line for line in bill if line.startswith("SBT-3,")]
    assert [line.split(",")[2:4] for line in mine] == [["pay", "1000"], ["refund", "600"]]


def test_an_unpaid_order_can_be_closed_and_then_not_paid(sandbox: SandboxChannel) -> None:
    order(sandbox, "SBT-4")
    sandbox.close("SBT-4")
    with pytest.raises(PermanentChannelError):
        sandbox.pay("SBT-4")
    assert sandbox.query("SBT-NONE").state == TradeState.NOT_FOUND


def test_checks_refuse_a_short_key_production_and_unknown_channels() -> None:
    with override_settings(
        PAYMENT_SANDBOX_KEY="short", RENDAO_ENV="production", PAYMENT_CHANNELS=["sandbox", "paypal"]
    ):
        ids = {message.id for message in check_payment_channels()}
    assert ids == {"rendao.E511", "rendao.E512", "rendao.E502"}
    with override_settings(PAYMENT_SANDBOX_KEY=KEY, PAYMENT_CHANNELS=["sandbox"]):
        assert check_payment_channels() == []
    with override_settings(PAYMENT_CHANNELS=["sandbox"]), pytest.raises(KeyError):
        channel_get("alipay")
