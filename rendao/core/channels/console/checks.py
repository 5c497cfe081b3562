from __future__ import annotations

from django.core.checks import CheckMessage


def check_settings() -> list[CheckMessage]:
    """The console adapter needs no configuration: it writes to the log."""
    return []
