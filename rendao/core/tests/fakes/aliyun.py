"""A fake of Alibaba Cloud SMS (dysmsapi SendSms, RPC signature version 1.0)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rendao.core.tests.fakes import FakeProvider, Received

REQUIRED = (
    "AccessKeyId",
    "Action",
    "Format",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
    "PhoneNumbers",
    "SignName",
    "TemplateCode",
)


def _encode(value: str) -> str:
    # Written out rather than imported from the adapter: the fake must not share its bugs.
    out = []
    for byte in value.encode():
        ch = chr(byte)
        if ch.isascii() and (ch.isalnum() or ch in "-_.~"):
            out.append(ch)
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


class FakeAliyunSms(FakeProvider):
    access_key_id = "LTAI-test-key"
    secret = "test-secret"
    sign_name = "厦门市红十字会"

    def __init__(self) -> None:
        super().__init__()
        # Approved template codes and the variables each needs.
        self.templates: dict[str, set[str]] = {"SMS_100001": {"code"}, "SMS_100002": {"event"}}
        self.illegal_numbers: set[str] = set()
        self.throttle_next = 0
        self.status_next: int | None = None
        self.nonces: set[str] = set()
        self.sent: list[dict[str, Any]] = []

    def handle(self, request: Received) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4())

        def refuse(status: int, code: str) -> tuple[int, dict[str, Any]]:
            return status, {"Code": code, "Message": f"refused: {code}", "RequestId": request_id}

        if self.status_next is not None:
            status, self.status_next = self.status_next, None
            return refuse(status, "ServiceUnavailable" if status >= 500 else "Throttling.User")
        if request.method != "POST" or request.path != "/":
            return refuse(404, "InvalidAction.NotFound")
        form = request.form()
        missing = [name for name in REQUIRED if not form.get(name)]
        if missing:
            return refuse(400, "MissingParameter")
        if form["Action"] != "SendSms" or form["Version"] != "2017-05-25" or form["Format"] != "JSON":
            return refuse(400, "InvalidParameter")
        if form["SignatureMethod"] != "HMAC-SHA1" or form["SignatureVersion"] != "1.0":
            return refuse(400, "InvalidParameter")
        if form["AccessKeyId"] != self.access_key_id:
            return refuse(404, "InvalidAccessKeyId.NotFound")
        signed = {k: v for k, v in form.items() if k != "Signature"}
        canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(signed.items()))
        to_sign = "POST&%2F&" + _encode(canonical)
        expected = base64.b64encode(
            hmac.new((self.secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(expected, form["Signature"]):
            return refuse(400, "SignatureDoesNotMatch")
        try:
            stamp = datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return refuse(400, "InvalidTimeStamp.Format")
        if abs(stamp.timestamp() - time.time()) > 15 * 60:
            return refuse(400, "InvalidTimeStamp.Expired")
        if form["SignatureNonce"] in self.nonces:
            return refuse(400, "SignatureNonceUsed")
        self.nonces.add(form["SignatureNonce"])
        # Past authentication: business errors come back as HTTP 200 with a Code.
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return refuse(200, "isv.BUSINESS_LIMIT_CONTROL")
        if form["SignName"] != self.sign_name:
            return refuse(200, "isv.SMS_SIGNATURE_ILLEGAL")
        number = form["PhoneNumbers"]
        if (
            not (number.isdigit() and len(number) == 11 and number.startswith("1"))
            or number in self.illegal_numbers
        ):
            return refuse(200, "isv.MOBILE_NUMBER_ILLEGAL")
        variables = self.templates.get(form["TemplateCode"])
        if variables is None:
            return refuse(200, "isv.SMS_TEMPLATE_ILLEGAL")
        try:
            params = json.loads(form.get("TemplateParam") or "{}")
        except ValueError:
            return refuse(200, "isv.INVALID_JSON_PARAM")
        if not isinstance(params, dict) or not variables <= set(params):
            return refuse(200, "isv.TEMPLATE_MISSING_PARAMETERS")
        self.sent.append(
            {
                "number": number,
                "template": form["TemplateCode"],
                "params": params,
                "out_id": form.get("OutId", ""),
            }
        )
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": f"9006197469364984{len(self.sent):02d}^0",
            "RequestId": request_id,
        }
