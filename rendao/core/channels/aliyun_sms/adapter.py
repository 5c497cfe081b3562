"""The Alibaba Cloud SMS adapter (dysmsapi 2017-05-25, SendSms).

An SMS in mainland China can only carry an approved template under an approved
signature: we send the template's code and the values of its variables
(TemplateParam), never our own text. The values travel with the outbox row
(`OutboxMessage.params`, encrypted); which template serves which message type is
RENDAO_ALIYUN_SMS_TEMPLATES.

Requests are RPC-style, signed with HMAC-SHA1 over the canonicalised,
percent-encoded parameters (Alibaba Cloud "signature mechanism" for RPC APIs,
SignatureVersion 1.0), and sent as a form POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.core.checks import CheckMessage

from rendao.core.channels import DeliveryResult, PermanentError, TransientError, http
from rendao.core.channels.aliyun_sms import checks

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage

API_VERSION = "2017-05-25"
WHAT = "Alibaba Cloud SMS"

# Error codes worth retrying: throttling (per number per minute/hour/day, and the
# account's API rate), the provider's own faults, an empty balance that finance
# can top up, and a nonce or timestamp problem that a fresh request fixes.
TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",
        "InvalidTimeStamp.Expired",
    }
)
# Hopeless as written: the number, the template, the signature, the parameters
# or the credentials are wrong, or the content was refused.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.RAM_PERMISSION_DENY",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "MissingParameter",
        "InvalidParameter",
        "Forbidden.RAM",
    }
)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud signs it: space %20, * %2A, ~ kept."""
    return quote(value, safe="~")


def signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD&%2F&encode(canonical query)))."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def phone_number(recipient: str) -> str:
    """E.164 → what SendSms expects: 11 digits for mainland numbers, else country code + number."""
    digits = recipient.strip().removeprefix("+")
    if not digits.isdigit():
        raise PermanentError("the recipient is not a phone number")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def error_for(status: int, code: str) -> TransientError | PermanentError:
    """Map a refusal to retry or give up. Only the code is quoted: the provider's
    message text may repeat the number."""
    text = f"{WHAT} refused the message: {code or f'HTTP {status}'}"
    if code in TRANSIENT_CODES or code.startswith("isp.") or code.startswith("Throttling"):
        return TransientError(text)
    if code in PERMANENT_CODES or code.startswith("isv."):
        return PermanentError(text)
    if status >= 500 or status == 429 or not code:
        return TransientError(text)
    # An unknown code on an HTTP 4xx is about the request itself.
    return PermanentError(text) if 400 <= status < 500 else TransientError(text)


class AliyunSmsChannel:
    """Sends SMS through Alibaba Cloud SMS with an approved template per message type."""

    name = "aliyun_sms"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        from rendao.core.messages import TemplateError, provider_templates

        try:
            templates = provider_templates(settings.ALIYUN_SMS_TEMPLATES, "RENDAO_ALIYUN_SMS_TEMPLATES")
            template = templates.get(message.kind)
            if template is None:
                raise PermanentError(
                    f"no approved SMS template for message type {message.kind!r} "
                    "(RENDAO_ALIYUN_SMS_TEMPLATES)"
                )
            if not message.params:
                raise PermanentError("the message carries no template values (send it with notify)")
            values = template.values(message.template_values)
        except TemplateError as exc:
            raise PermanentError(str(exc)) from None
        params = {
            "AccessKeyId": settings.ALIYUN_SMS_ACCESS_KEY_ID,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.fromtimestamp(http.clock(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            "PhoneNumbers": phone_number(message.recipient),
            "SignName": settings.ALIYUN_SMS_SIGN_NAME,
            "TemplateCode": template.template_id,
            "TemplateParam": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
            # OutId is echoed in delivery receipts, which ties a receipt to its
            # outbox row. Alibaba Cloud does NOT drop a second request with the
            # same OutId: a crash between acceptance and recording can send the
            # SMS twice (at-least-once; see rendao/core/outbox_delivery.py).
            "OutId": str(message.pk),
        }
        params["Signature"] = signature(params, settings.ALIYUN_SMS_ACCESS_KEY_SECRET)
        answer = http.call(WHAT, settings.ALIYUN_SMS_ENDPOINT, form=params)
        code = str(answer.data.get("Code", ""))
        if answer.status == 200 and code == "OK":
            return DeliveryResult(provider_id=str(answer.data.get("BizId", "")))
        raise error_for(answer.status, code)

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()
