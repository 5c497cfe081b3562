from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "rendao.ledger"
    label = "ledger"
    verbose_name = _("Transparency log")

    def ready(self) -> None:
        # The system checks (signing key, witnesses, interval).
        from rendao.ledger import checks  # noqa: F401
