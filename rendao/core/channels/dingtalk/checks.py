from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error

from rendao.core.channels.http import is_http_url


def _api_url() -> list[CheckMessage]:
    if is_http_url(settings.DINGTALK_API):
        return []
    return [
        Error(
            "RENDAO_DINGTALK_API is not an http(s) URL.",
            hint="The default is https://oapi.dingtalk.com.",
            id="rendao.E134",
        )
    ]


def check_settings() -> list[CheckMessage]:
    """The corp app (AppKey, AppSecret, numeric AgentId) that sends work notifications."""
    errors: list[CheckMessage] = []
    for variable, value, check_id in (
        ("RENDAO_DINGTALK_APP_KEY", settings.DINGTALK_APP_KEY, "rendao.E131"),
        ("RENDAO_DINGTALK_APP_SECRET", settings.DINGTALK_APP_SECRET, "rendao.E132"),
    ):
        if not value:
            errors.append(
                Error(
                    f"The dingtalk channel is in use but {variable} is empty.",
                    hint="Copy it from the app's page in the DingTalk developer console.",
                    id=check_id,
                )
            )
    if not settings.DINGTALK_AGENT_ID.isdigit():
        errors.append(
            Error(
                "The dingtalk channel is in use but RENDAO_DINGTALK_AGENT_ID is not a number.",
                hint="Copy the AgentId from the app's page in the DingTalk developer console.",
                id="rendao.E133",
            )
        )
    return errors + _api_url()


def check_robot_settings() -> list[CheckMessage]:
    """The group robot's webhook token and signing secret (加签)."""
    errors: list[CheckMessage] = []
    for variable, value, check_id in (
        ("RENDAO_DINGTALK_ROBOT_TOKEN", settings.DINGTALK_ROBOT_TOKEN, "rendao.E135"),
        ("RENDAO_DINGTALK_ROBOT_SECRET", settings.DINGTALK_ROBOT_SECRET, "rendao.E136"),
    ):
        if not value:
            errors.append(
                Error(
                    f"The dingtalk_robot channel is in use but {variable} is empty.",
                    hint="Add a custom robot with signing (加签) to the group; copy its token and secret.",
                    id=check_id,
                )
            )
    return errors + _api_url()
