"""System checks: misconfiguration stops start-up, not the first request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=False)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not settings.SECRET_KEY:
        return [
            Error(
                "RENDAO_SECRET_KEY is not set.",
                hint="Production needs an explicit secret key of at least 50 random characters.",
                id="rendao.E001",
            )
        ]
    return []


@register()
def check_environment(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if settings.RENDAO_ENV not in {"development", "production"}:
        errors.append(
            Error(
                f"RENDAO_ENV is {settings.RENDAO_ENV!r}.",
                hint="Use 'development' or 'production'.",
                id="rendao.E002",
            )
        )
    if settings.RENDAO_ENV == "production" and settings.DEBUG:
        errors.append(Error("RENDAO_DEBUG is on in production.", id="rendao.E003"))
    return errors
