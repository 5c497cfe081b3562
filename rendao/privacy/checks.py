"""Start-up checks for the vault: production needs real keys, and keys must parse."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from rendao.privacy.keyring import keyring, reset_keyring_cache


@register()
def check_vault_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    reset_keyring_cache()
    try:
        keyring()
    except (ImproperlyConfigured, OSError) as exc:
        return [
            Error(
                f"The personal-data vault's keys are not usable: {exc}",
                hint="See RENDAO_VAULT_KEYS, RENDAO_VAULT_KEYS_FILE and RENDAO_VAULT_INDEX_KEY "
                "in .env.example.",
                id="rendao.E201",
            )
        ]
    if settings.RENDAO_ENV == "production" and not settings.VAULT_INDEX_KEY:
        return [
            Error(
                "RENDAO_VAULT_INDEX_KEY is not set in production.",
                hint='Generate one: python -c "import secrets,base64;'
                'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"',
                id="rendao.E202",
            )
        ]
    return []
