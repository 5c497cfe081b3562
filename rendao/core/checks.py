"""System checks: misconfiguration stops start-up, not the first request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host


@register(Tags.security, deploy=False)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    # Django raises on reading an empty SECRET_KEY; catch it so the operator
    # sees our error naming the variable instead of a traceback.
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:
        key = ""
    if not key:
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


@register()
def check_site_url(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    # SITE_URL goes into SMS, e-mails and receipts: a malformed one would send
    # people dead links long after start-up.
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [
            Error(
                f"RENDAO_SITE_URL is {settings.SITE_URL!r}.",
                hint="Use an absolute http:// or https:// URL, e.g. https://rendao.example.org.",
                id="rendao.E004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_production_config(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Warnings for a production configuration that runs but is not what we deploy."""
    if settings.RENDAO_ENV != "production":
        return []
    warnings: list[CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        warnings.append(
            Warning(
                "Production is running on SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL database (postgres://user@host:5432/name).",
                id="rendao.W001",
            )
        )
    parts = urlsplit(settings.SITE_URL)
    if parts.hostname and not validate_host(parts.hostname, settings.ALLOWED_HOSTS):
        warnings.append(
            Warning(
                f"The host of RENDAO_SITE_URL ({parts.hostname}) is not in RENDAO_ALLOWED_HOSTS.",
                hint="Links sent out of the platform would be refused with 400 Bad Request.",
                id="rendao.W002",
            )
        )
    if settings.RENDAO_HTTPS and parts.scheme != "https":
        warnings.append(
            Warning(
                "RENDAO_HTTPS is on but RENDAO_SITE_URL is not an https:// URL.",
                id="rendao.W003",
            )
        )
    return warnings
