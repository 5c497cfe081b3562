from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.funds.payments.http import is_http_url


def check_settings() -> list[CheckMessage]:
    """Merchant id, app id, the merchant key and serial, the APIv3 key, platform keys."""
    errors: list[CheckMessage] = []
    for variable, value, check_id in (
        ("RENDAO_WECHATPAY_MCH_ID", settings.PAYMENT_WECHATPAY_MCH_ID, "rendao.E521"),
        ("RENDAO_WECHATPAY_APP_ID", settings.PAYMENT_WECHATPAY_APP_ID, "rendao.E522"),
        ("RENDAO_WECHATPAY_MCH_SERIAL_NO", settings.PAYMENT_WECHATPAY_MCH_SERIAL_NO, "rendao.E523"),
    ):
        if not value:
            errors.append(
                Error(
                    f"The wechatpay channel is enabled but {variable} is empty.",
                    hint="Copy it from the WeChat Pay merchant platform (账户中心 / API安全).",
                    id=check_id,
                )
            )
    if len(settings.PAYMENT_WECHATPAY_API_V3_KEY.encode()) != 32:
        errors.append(
            Error(
                "RENDAO_WECHATPAY_API_V3_KEY must be the 32-character APIv3 key.",
                hint="Set it under 账户中心 / API安全 / 设置APIv3密钥.",
                id="rendao.E524",
            )
        )
    if not Path(settings.PAYMENT_WECHATPAY_MCH_PRIVATE_KEY_FILE or "/nonexistent").is_file():
        errors.append(
            Error(
                "RENDAO_WECHATPAY_MCH_PRIVATE_KEY_FILE is not a readable file.",
                hint="The merchant API private key (apiclient_key.pem), mode 0600.",
                id="rendao.E525",
            )
        )
    entries = settings.PAYMENT_WECHATPAY_PLATFORM_KEYS
    if not entries or any(
        not serial or not Path(path).is_file()
        for serial, _, path in (entry.partition("=") for entry in entries)
    ):
        errors.append(
            Error(
                "RENDAO_WECHATPAY_PLATFORM_KEYS must list serial=path pairs of readable PEM files.",
                hint="The WeChat Pay public key (PUB_KEY_ID_…=pub_key.pem) or platform certificates.",
                id="rendao.E526",
            )
        )
    if not is_http_url(settings.PAYMENT_WECHATPAY_API):
        errors.append(
            Error(
                "RENDAO_WECHATPAY_API is not an http(s) URL.",
                hint="https://api.mch.weixin.qq.com",
                id="rendao.E527",
            )
        )
    return errors
