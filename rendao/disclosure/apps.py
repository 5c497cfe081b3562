from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "rendao.disclosure"
    label = "disclosure"
    verbose_name = _("Disclosure")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rendao.disclosure.ledger_audit import register_rederivers

        register_rederivers()
