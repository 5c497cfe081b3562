"""Start-up checks for the transparency log: a usable signing key, witness keys, interval."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from rendao.ledger.keys import ledger_origin, ledger_signer, reset_key_cache, witness_verifiers

# A note key name: anything but whitespace and "+" (C2SP signed-note).
_NAME = re.compile(r"^[^\s+]+$")


@register()
def check_ledger(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    reset_key_cache()
    errors: list[CheckMessage] = []
    if not _NAME.match(ledger_origin()):
        errors.append(
            Error(
                f"The ledger origin {ledger_origin()!r} is not a valid key name (no spaces or '+').",
                hint="Set RENDAO_LEDGER_ORIGIN, e.g. rendao.example.org/ledger.",
                id="rendao.E302",
            )
        )
        return errors
    try:
        ledger_signer()
    except ImproperlyConfigured as exc:
        errors.append(
            Error(
                f"The transparency log cannot sign checkpoints: {exc}",
                hint="Create the key once with `rendao manage ledger_keygen` and set "
                "RENDAO_LEDGER_KEY_FILE (see .env.example).",
                id="rendao.E301",
            )
        )
    try:
        witness_verifiers()
    except ImproperlyConfigured as exc:
        errors.append(
            Error(
                f"RENDAO_LEDGER_WITNESSES is malformed: {exc}",
                hint="List each witness's cosignature key as it publishes it: name+keyid+base64.",
                id="rendao.E303",
            )
        )
    if not 1 <= settings.LEDGER_CHECKPOINT_SECONDS <= 3600:
        errors.append(
            Error(
                "RENDAO_LEDGER_CHECKPOINT_SECONDS must be between 1 and 3600.",
                id="rendao.E304",
            )
        )
    return errors
