"""System checks of the payment channels.

Not registered by this module: the lead registers `check_payment_channels`
(e.g. `register()(check_payment_channels)` in rendao/funds/apps.py `ready()`)
when rendao.funds joins INSTALLED_APPS. Ids rendao.E2xx.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.funds.payments import CHANNELS, channel_get


def check_payment_channels(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every enabled channel exists and has its keys; only enabled ones are checked."""
    errors: list[CheckMessage] = []
    enabled = list(settings.PAYMENT_CHANNELS)
    if not enabled:
        errors.append(
            Error(
                "RENDAO_PAYMENT_CHANNELS is empty: nobody could donate online.",
                hint="The default is sandbox; production lists wechatpay and/or alipay.",
                id="rendao.E501",
            )
        )
    for name in enabled:
        if name not in CHANNELS:
            errors.append(
                Error(
                    f"RENDAO_PAYMENT_CHANNELS names unknown channel {name!r}.",
                    hint=f"Known channels: {', '.join(sorted(CHANNELS))}.",
                    id="rendao.E502",
                )
            )
    for name in sorted(set(enabled) & set(CHANNELS)):
        errors.extend(channel_get(name).check_settings())
    return errors
