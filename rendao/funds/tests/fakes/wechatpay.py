"""A fake WeChat Pay API v3: checks the merchant's Authorization signature, signs answers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rendao.funds.tests.fakes import FakeGateway
from rendao.funds.tests.fakes.bills import Trade, wechat_trade_bill

AUTH = re.compile(r"^WECHATPAY2-SHA256-RSA2048 (.*)$")
# The trade bill of 2025-06-15: the payment the fake's query answers, then a refund of part of it.
BILL = wechat_trade_bill(
    [
        Trade("WX-1", "4200001", 5000, datetime(2025, 6, 15, 10, 0)),  # noqa: DTZ001 - China time as written
        Trade("WX-1", "4200001", 1000, datetime(2025, 6, 15, 11, 0), "RF-1", "5030001"),  # noqa: DTZ001
    ]
)


def sign(key: rsa.RSAPrivateKey, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def notification(
    platform: rsa.RSAPrivateKey, serial: str, api_v3_key: bytes, transaction: dict[str, Any], *, at: float
) -> tuple[dict[str, str], bytes]:
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(api_v3_key).encrypt(nonce.encode(), json.dumps(transaction).encode(), b"transaction")
    body = json.dumps(
        {
            "id": "EV-1",
            "create_time": "2025-06-15T10:00:00+08:00",
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
                "original_type": "transaction",
            },
        }
    ).encode()
    timestamp, header_nonce = str(int(at)), secrets.token_hex(16)
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": header_nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature": sign(platform, timestamp, header_nonce, body),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body


class FakeWeChatPay(FakeGateway):
    def __init__(
        self, *, merchant_public: rsa.RSAPublicKey, platform: rsa.RSAPrivateKey, serial: str, mch_id: str
    ):
        self.merchant_public, self.platform, self.serial, self.mch_id = (
            merchant_public,
            platform,
            serial,
            mch_id,
        )
        self.orders: dict[str, dict[str, Any]] = {}
        super().__init__(self.handle)

    def authorised(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        match = AUTH.match(headers.get("authorization", ""))
        if not match:
            return False
        fields = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if fields.get("mchid") != self.mch_id:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + body + b"\n"
        try:
            self.merchant_public.verify(
                base64.b64decode(fields["signature"]), message, padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:  # any failure is a refusal, as at the real gateway
            return False
        return True

    def signed(self, status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
        body = b"" if data is None else json.dumps(data).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return (
            status,
            {
                "Content-Type": "application/json",
                "Wechatpay-Timestamp": timestamp,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": self.serial,
                "Wechatpay-Signature": sign(self.platform, timestamp, nonce, body),
            },
            body,
        )

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if not self.authorised(method, path, headers, body):
            return self.signed(401, {"code": "SIGN_ERROR", "message": "bad signature"})
        if path == "/download/bill":
            return 200, {"Content-Type": "application/octet-stream"}, BILL
        if method == "POST" and path.startswith("/v3/pay/transactions/"):
            data = json.loads(body)
            if path.endswith("/close"):
                return self.signed(204, None)
            self.orders[data["out_trade_no"]] = data
            kind = path.rsplit("/", 1)[1]
            answer = {
                "jsapi": {"prepay_id": "wx-prepay-1"},
                "native": {"code_url": "weixin://wxpay/bizpayurl?pr=x"},
                "h5": {"h5_url": "https://wx.tenpay.com/h5"},
            }[kind]
            return self.signed(200, answer)
        if method == "GET" and path.startswith("/v3/pay/transactions/out-trade-no/"):
            ref = path.split("/")[-1].split("?")[0]
            if ref not in self.orders:
                return self.signed(404, {"code": "ORDER_NOT_EXIST", "message": "no such order"})
            order = self.orders[ref]
            return self.signed(
                200,
                {
                    "out_trade_no": ref,
                    "trade_state": "SUCCESS",
                    "transaction_id": "4200001",
                    "amount": {"total": order["amount"]["total"]},
                    "success_time": "2025-06-15T10:00:00+08:00",
                },
            )
        if path == "/v3/refund/domestic/refunds":
            data = json.loads(body)
            if data["amount"]["refund"] > data["amount"]["total"]:
                return self.signed(400, {"code": "INVALID_REQUEST", "message": "refund too large"})
            return self.signed(
                200, {"refund_id": "5030001", "status": "PROCESSING", "amount": data["amount"]}
            )
        if path.startswith("/v3/bill/tradebill"):
            return self.signed(
                200,
                {
                    "download_url": f"{self.url}/download/bill",
                    "hash_type": "SHA1",
                    "hash_value": hashlib.sha1(BILL, usedforsecurity=False).hexdigest(),
                },
            )
        return self.signed(404, {"code": "NOT_FOUND"})
