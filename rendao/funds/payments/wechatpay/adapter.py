"""WeChat Pay API v3, with `cryptography` directly (no SDK: see README.md).

Requests are signed with the merchant's RSA key: the Authorization header
`WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…`
carries SHA256-RSA (PKCS#1 v1.5) over "METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n".
Answers and notifications are signed by WeChat Pay over "timestamp\\nnonce\\nbody\\n"
with the platform key named by Wechatpay-Serial (the "WeChat Pay public key"
PUB_KEY_ID_… or a platform certificate serial; both are configured as files,
never fetched, so an unknown serial is refused instead of triggering a download).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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
from rendao.funds.payments.http import Answer, call
from rendao.funds.payments.rsakeys import load_private_key, load_public_key, rsa_sign
from rendao.funds.payments.wechatpay import checks

SCHEME = "WECHATPAY2-SHA256-RSA2048"
# WeChat Pay sends notifications with a deliberately wrong signature to see
# whether merchants verify; those must be refused like any forgery.
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
# Error codes that say "try again" rather than "this request is wrong".
TRANSIENT_CODES = {"SYSTEM_ERROR", "SYSTEMERROR", "FREQUENCY_LIMITED", "BANK_ERROR", "RATELIMIT_EXCEEDED"}
TRADE_STATES = {
    "SUCCESS": TradeState.PAID,
    "REFUND": TradeState.REFUNDED,
    "NOTPAY": TradeState.NOT_PAID,
    "USERPAYING": TradeState.NOT_PAID,
    "PAYERROR": TradeState.NOT_PAID,
    "CLOSED": TradeState.CLOSED,
    "REVOKED": TradeState.CLOSED,
}


class WeChatPayChannel:
    name = "wechatpay"
    # WeChat Pay v3 "申请退款": 交易时间超过一年的订单无法提交退款 (an order paid more
    # than a year ago cannot be refunded); counted as paid_at + 365 days.
    REFUND_WINDOW_DAYS = 365

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()

    @cached_property
    def _private_key(self) -> rsa.RSAPrivateKey:
        return load_private_key(
            settings.PAYMENT_WECHATPAY_MCH_PRIVATE_KEY_FILE, "wechatpay: the merchant key"
        )

    @cached_property
    def _platform_keys(self) -> dict[str, rsa.RSAPublicKey]:
        keys = {}
        for entry in settings.PAYMENT_WECHATPAY_PLATFORM_KEYS:
            serial, _, path = entry.partition("=")
            keys[serial.strip()] = load_public_key(Path(path.strip()).read_bytes())
        return keys

    # --- signatures ---------------------------------------------------------

    def authorization(self, method: str, url_path: str, body: str) -> str:
        timestamp = str(int(payments.clock()))
        nonce = secrets.token_hex(16)
        signature = rsa_sign(self._private_key, f"{method}\n{url_path}\n{timestamp}\n{nonce}\n{body}\n")
        return (
            f'{SCHEME} mchid="{settings.PAYMENT_WECHATPAY_MCH_ID}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{timestamp}",serial_no="{settings.PAYMENT_WECHATPAY_MCH_SERIAL_NO}"'
        )

    def _verify_signature(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check WeChat Pay's signature on an answer or notification; return its nonce."""
        h = payments.lower_headers(headers)
        timestamp = h.get("wechatpay-timestamp", "")
        nonce = h.get("wechatpay-nonce", "")
        signature = h.get("wechatpay-signature", "")
        serial = h.get("wechatpay-serial", "")
        if not (timestamp.isdigit() and nonce and signature and serial):
            raise MalformedNotification("wechatpay: signature headers missing")
        if signature.startswith(PROBE_PREFIX):
            raise ForgedNotification("wechatpay: signature probe refused")
        if h.get("wechatpay-signature-type", SCHEME) != SCHEME:
            raise ForgedNotification("wechatpay: unsupported signature type")
        key = self._platform_keys.get(serial)
        if key is None:
            raise ForgedNotification("wechatpay: unknown platform key serial")
        try:
            raw_signature = base64.b64decode(signature, validate=True)
            key.verify(
                raw_signature,
                f"{timestamp}\n{nonce}\n".encode() + body + b"\n",
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error):
            raise ForgedNotification("wechatpay: bad signature") from None
        if abs(payments.clock() - int(timestamp)) > payments.MAX_SKEW_SECONDS:
            raise ForgedNotification("wechatpay: timestamp more than 5 minutes off")
        return nonce

    # --- API calls ----------------------------------------------------------

    def _request(
        self,
        what: str,
        method: str,
        path: str,
        payload: Any = None,
        *,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        url_path = path + (f"?{urlencode(query)}" if query else "")
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Authorization": self.authorization(method, url_path, body),
            "Accept": "application/json",
            "User-Agent": "rendao",
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        answer = call(
            what,
            method,
            settings.PAYMENT_WECHATPAY_API.rstrip("/") + url_path,
            body=body.encode() if payload is not None else None,
            headers=headers,
        )
        return self._json(what, answer)

    def _json(self, what: str, answer: Answer) -> Any:
        if answer.status >= 500 or answer.status == 429:
            raise TransientChannelError(f"wechatpay {what}: HTTP {answer.status}")
        # Verify every answer, errors included: a man in the middle could fake a
        # "paid" query result as easily as a notification.
        try:
            self._verify_signature(answer.headers, answer.body)
        except (ForgedNotification, MalformedNotification) as exc:
            raise TransientChannelError(f"wechatpay {what}: answer not verified ({exc})") from None
        if answer.status == 204:
            return {}
        try:
            data = json.loads(answer.body)
        except ValueError:
            raise TransientChannelError(f"wechatpay {what}: answer is not JSON") from None
        if not isinstance(data, dict):
            raise TransientChannelError(f"wechatpay {what}: answer is not an object")
        if answer.status >= 400:
            code = str(data.get("code", ""))
            error = TransientChannelError if code in TRANSIENT_CODES else PermanentChannelError
            raise error(f"wechatpay {what}: {code or answer.status}")
        return data

    def create_order(
        self, *, order_ref: str, amount_fen: int, description: str, notify_url: str, client: ClientInfo
    ) -> Checkout:
        scene = client.scene or ("jsapi" if client.openid else "native")
        payload: dict[str, Any] = {
            "appid": settings.PAYMENT_WECHATPAY_APP_ID,
            "mchid": settings.PAYMENT_WECHATPAY_MCH_ID,
            "description": description[:127],
            "out_trade_no": order_ref,
            "notify_url": notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
        }
        if scene == "jsapi":
            if not client.openid:
                raise PermanentChannelError("wechatpay: JSAPI needs the payer's openid")
            payload["payer"] = {"openid": client.openid}
            prepay_id = str(
                self._request("jsapi order", "POST", "/v3/pay/transactions/jsapi", payload).get(
                    "prepay_id", ""
                )
            )
            if not prepay_id:
                raise TransientChannelError("wechatpay jsapi order: no prepay_id")
            params = {
                "appId": settings.PAYMENT_WECHATPAY_APP_ID,
                "timeStamp": str(int(payments.clock())),
                "nonceStr": secrets.token_hex(16),
                "package": f"prepay_id={prepay_id}",
                "signType": "RSA",
            }
            params["paySign"] = rsa_sign(
                self._private_key,
                f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n",
            )
            return Checkout(kind=CheckoutKind.JSAPI, params=params)
        if scene == "h5":
            payload["scene_info"] = {"payer_client_ip": client.ip, "h5_info": {"type": "Wap"}}
            url = str(self._request("h5 order", "POST", "/v3/pay/transactions/h5", payload).get("h5_url", ""))
            if not url:
                raise TransientChannelError("wechatpay h5 order: no h5_url")
            return Checkout(kind=CheckoutKind.REDIRECT, url=url)
        if scene == "native":
            url = str(
                self._request("native order", "POST", "/v3/pay/transactions/native", payload).get(
                    "code_url", ""
                )
            )
            if not url:
                raise TransientChannelError("wechatpay native order: no code_url")
            return Checkout(kind=CheckoutKind.QR, url=url)
        raise PermanentChannelError(f"wechatpay: unknown scene {scene!r}")

    def verify_notification(self, headers: Mapping[str, str], raw_body: bytes) -> VerifiedPayment:
        nonce = self._verify_signature(headers, raw_body)
        try:
            envelope = json.loads(raw_body)
            resource = envelope["resource"]
            if resource["algorithm"] != "AEAD_AES_256_GCM":
                raise ValueError("algorithm")
            ciphertext = base64.b64decode(resource["ciphertext"], validate=True)
            resource_nonce = str(resource["nonce"]).encode()
            associated = str(resource.get("associated_data", "")).encode()
            event_type = str(envelope["event_type"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise MalformedNotification(f"wechatpay: malformed notification ({type(exc).__name__})") from None
        try:
            plain = AESGCM(settings.PAYMENT_WECHATPAY_API_V3_KEY.encode()).decrypt(
                resource_nonce, ciphertext, associated
            )
        except (InvalidTag, ValueError):
            # The signature covered the body, so only a wrong APIv3 key gets here.
            raise ForgedNotification("wechatpay: resource does not decrypt with our APIv3 key") from None
        try:
            data = json.loads(plain)
            if data["mchid"] != settings.PAYMENT_WECHATPAY_MCH_ID:
                raise ForgedNotification("wechatpay: notification for another merchant")
            if data["appid"] != settings.PAYMENT_WECHATPAY_APP_ID:
                raise ForgedNotification("wechatpay: notification for another app")
            if event_type != "TRANSACTION.SUCCESS" or data["trade_state"] != "SUCCESS":
                raise NotificationIgnored("wechatpay: not a successful payment")
            amount = data["amount"]
            if (
                amount.get("currency", "CNY") != "CNY"
                or type(amount["total"]) is not int
                or amount["total"] <= 0
            ):
                raise ValueError("amount")
            paid_at = datetime.fromisoformat(data["success_time"])
            if paid_at.tzinfo is None:
                raise ValueError("naive time")
            return VerifiedPayment(
                channel=self.name,
                out_trade_no=str(data["out_trade_no"]),
                channel_txn_id=str(data["transaction_id"]),
                amount_fen=amount["total"],
                paid_at=paid_at,
                payer_ref=str(data.get("payer", {}).get("openid", "")),
                nonce=nonce,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedNotification(f"wechatpay: malformed resource ({type(exc).__name__})") from None

    def notification_reply(self, ok: bool) -> Reply:
        # Documented success: HTTP 200/204; the JSON body is what older docs asked
        # for and is harmless with the newer ones. Failure: 4xx/5xx and code FAIL.
        if ok:
            return Reply(200, "application/json", b'{"code":"SUCCESS","message":"OK"}')
        return Reply(500, "application/json", b'{"code":"FAIL","message":"FAIL"}')

    def query(self, out_trade_no: str) -> TradeStatus:
        try:
            data = self._request(
                "query",
                "GET",
                f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}",
                query={"mchid": settings.PAYMENT_WECHATPAY_MCH_ID},
            )
        except PermanentChannelError as exc:
            if "ORDER_NOT_EXIST" in str(exc):
                return TradeStatus(out_trade_no, TradeState.NOT_FOUND)
            raise
        state = TRADE_STATES.get(str(data.get("trade_state")))
        if state is None:
            raise TransientChannelError("wechatpay query: unknown trade_state")
        amount = data.get("amount") or {}
        success_time = data.get("success_time")
        return TradeStatus(
            out_trade_no,
            state,
            channel_txn_id=str(data.get("transaction_id", "")),
            amount_fen=int(amount.get("total", 0)),
            paid_at=datetime.fromisoformat(success_time) if success_time else None,
        )

    def close(self, out_trade_no: str) -> None:
        self._request(
            "close",
            "POST",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close",
            {"mchid": settings.PAYMENT_WECHATPAY_MCH_ID},
        )

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int
    ) -> RefundResult:
        data = self._request(
            "refund",
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"},
            },
        )
        status = str(data.get("status", ""))
        if status in {"CLOSED", "ABNORMAL"}:
            raise PermanentChannelError(f"wechatpay refund: {status}")
        return RefundResult(
            out_refund_no,
            RefundState.SUCCESS if status == "SUCCESS" else RefundState.PROCESSING,
            str(data.get("refund_id", "")),
            int((data.get("amount") or {}).get("refund", amount_fen)),
        )

    def download_bill(self, day: date) -> bytes:
        """The trade bill (CSV-like text): ask for download_url, fetch it, check its hash."""
        data = self._request(
            "bill", "GET", "/v3/bill/tradebill", query={"bill_date": day.isoformat(), "bill_type": "ALL"}
        )
        url = str(data.get("download_url", ""))
        parts = urlsplit(url)
        api = urlsplit(settings.PAYMENT_WECHATPAY_API)
        # Only ever send our signed Authorization header back to WeChat Pay itself.
        if (parts.scheme, parts.netloc) != (api.scheme, api.netloc):
            raise TransientChannelError("wechatpay bill: download_url is not on the API host")
        url_path = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = call(
            "bill download",
            "GET",
            url,
            headers={"Authorization": self.authorization("GET", url_path, ""), "User-Agent": "rendao"},
        )
        if answer.status != 200:
            raise TransientChannelError(f"wechatpay bill download: HTTP {answer.status}")
        # The file itself is not signed; its hash came in the signed answer.
        algorithm = str(data.get("hash_type", "SHA1")).lower()
        if (
            algorithm not in {"sha1", "sha256"}
            or hashlib.new(algorithm, answer.body).hexdigest() != str(data.get("hash_value", "")).lower()
        ):
            raise TransientChannelError("wechatpay bill download: hash mismatch")
        return answer.body
