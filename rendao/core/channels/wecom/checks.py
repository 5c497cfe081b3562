from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.core.channels.http import is_http_url


def check_settings() -> list[CheckMessage]:
    """Corp id, the app's secret and its numeric agent id."""
    errors: list[CheckMessage] = []
    for variable, value, check_id in (
        ("RENDAO_WECOM_CORP_ID", settings.WECOM_CORP_ID, "rendao.E141"),
        ("RENDAO_WECOM_CORP_SECRET", settings.WECOM_CORP_SECRET, "rendao.E142"),
    ):
        if not value:
            errors.append(
                Error(
                    f"The wecom channel is in use but {variable} is empty.",
                    hint="Copy it from the WeCom admin console (我的企业 / 应用管理).",
                    id=check_id,
                )
            )
    if not settings.WECOM_AGENT_ID.isdigit():
        errors.append(
            Error(
                "The wecom channel is in use but RENDAO_WECOM_AGENT_ID is not a number.",
                hint="Copy the AgentId from the app's page in the WeCom admin console.",
                id="rendao.E143",
            )
        )
    if not is_http_url(settings.WECOM_API):
        errors.append(
            Error(
                "RENDAO_WECOM_API is not an http(s) URL.",
                hint="The default is https://qyapi.weixin.qq.com.",
                id="rendao.E144",
            )
        )
    return errors
