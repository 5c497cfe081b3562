from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error


def check_settings() -> list[CheckMessage]:
    """A signing key; and never in production, where it would pretend money arrived."""
    errors: list[CheckMessage] = []
    if len(settings.PAYMENT_SANDBOX_KEY) < 32:
        errors.append(
            Error(
                "The sandbox channel is enabled but RENDAO_PAYMENT_SANDBOX_KEY is under 32 characters.",
                hint="Leave it unset in development (a key is generated in RENDAO_DATA_DIR).",
                id="rendao.E511",
            )
        )
    if settings.RENDAO_ENV == "production":
        errors.append(
            Error(
                "The sandbox payment channel is enabled in production: anyone could mark a donation paid.",
                hint="Remove sandbox from RENDAO_PAYMENT_CHANNELS.",
                id="rendao.E512",
            )
        )
    return errors
