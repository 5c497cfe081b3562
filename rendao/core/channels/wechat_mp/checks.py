from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.core.channels.http import is_http_url


def check_settings() -> list[CheckMessage]:
    """App id and secret of the official account, its API URL and the templates."""
    from rendao.core.messages import TemplateError, provider_templates  # the registry imports models

    errors: list[CheckMessage] = []
    for variable, value, check_id in (
        ("RENDAO_WECHAT_MP_APP_ID", settings.WECHAT_MP_APP_ID, "rendao.E151"),
        ("RENDAO_WECHAT_MP_APP_SECRET", settings.WECHAT_MP_APP_SECRET, "rendao.E152"),
    ):
        if not value:
            errors.append(
                Error(
                    f"The wechat_mp channel is in use but {variable} is empty.",
                    hint="Copy it from the official account's developer settings (开发 / 基本配置).",
                    id=check_id,
                )
            )
    if not is_http_url(settings.WECHAT_MP_API):
        errors.append(
            Error(
                "RENDAO_WECHAT_MP_API is not an http(s) URL.",
                hint="The default is https://api.weixin.qq.com.",
                id="rendao.E153",
            )
        )
    try:
        templates = provider_templates(settings.WECHAT_MP_TEMPLATES, "RENDAO_WECHAT_MP_TEMPLATES")
    except TemplateError as exc:
        errors.append(Error(f"{exc}.", hint="Use kind:template_id[:key=placeholder|…].", id="rendao.E154"))
    else:
        if not templates:
            errors.append(
                Error(
                    "The wechat_mp channel is in use but RENDAO_WECHAT_MP_TEMPLATES is empty.",
                    hint="A template message needs a template: add one per message type sent by WeChat.",
                    id="rendao.E155",
                )
            )
    return errors
