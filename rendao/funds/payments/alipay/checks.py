from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.funds.payments.http import is_http_url


def check_settings() -> list[CheckMessage]:
    """App id, seller id, the app's private key and ALIPAY's public key."""
    errors: list[CheckMessage] = []
    for variable, value, check_id in (
        ("RENDAO_ALIPAY_APP_ID", settings.PAYMENT_ALIPAY_APP_ID, "rendao.E531"),
        ("RENDAO_ALIPAY_SELLER_ID", settings.PAYMENT_ALIPAY_SELLER_ID, "rendao.E532"),
    ):
        if not value:
            errors.append(
                Error(
                    f"The alipay channel is enabled but {variable} is empty.",
                    hint="See open.alipay.com.",
                    id=check_id,
                )
            )
    for variable, value, check_id, hint in (
        (
            "RENDAO_ALIPAY_APP_PRIVATE_KEY_FILE",
            settings.PAYMENT_ALIPAY_APP_PRIVATE_KEY_FILE,
            "rendao.E533",
            "The app's own RSA2 private key (PEM), mode 0600.",
        ),
        (
            "RENDAO_ALIPAY_PUBLIC_KEY_FILE",
            settings.PAYMENT_ALIPAY_PUBLIC_KEY_FILE,
            "rendao.E534",
            "ALIPAY's public key (支付宝公钥), not the app's own.",
        ),
    ):
        if not Path(value or "/nonexistent").is_file():
            errors.append(Error(f"{variable} is not a readable file.", hint=hint, id=check_id))
    if not is_http_url(settings.PAYMENT_ALIPAY_GATEWAY):
        errors.append(
            Error(
                "RENDAO_ALIPAY_GATEWAY is not an http(s) URL.",
                hint="https://openapi.alipay.com/gateway.do",
                id="rendao.E535",
            )
        )
    return errors
