from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def check_settings() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    try:
        validate_email(address)
    except ValidationError:
        errors.append(
            Error(
                f"RENDAO_EMAIL_FROM is {settings.DEFAULT_FROM_EMAIL!r}, not an email address.",
                hint="Set it to the sender address of outgoing mail, e.g. rendao@example.org.",
                id="rendao.E111",
            )
        )
    if settings.EMAIL_BACKEND == SMTP_BACKEND and not settings.EMAIL_HOST:
        errors.append(
            Error(
                "The email channel uses SMTP but RENDAO_EMAIL_HOST is empty.",
                hint="Set RENDAO_EMAIL_HOST (and its user and password), or route email elsewhere.",
                id="rendao.E112",
            )
        )
    if settings.RENDAO_ENV == "production" and settings.EMAIL_BACKEND == CONSOLE_BACKEND:
        # The console backend prints whole messages, addresses in clear, to stdout:
        # fine on a laptop, a leak of personal data into the journal in production.
        errors.append(
            Error(
                "The email channel is in use but RENDAO_EMAIL_HOST is not set in production.",
                hint="Set RENDAO_EMAIL_HOST, or remove email from RENDAO_CHANNEL_ROUTES.",
                id="rendao.E113",
            )
        )
    return errors
