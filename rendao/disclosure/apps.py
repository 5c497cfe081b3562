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

        # Disclosures are approved through the approvals engine.
        from rendao.disclosure.services import register_process_type

        register_process_type()

        # The calendar's workbench items, "Disclosures overdue" and "due soon".
        from rendao.disclosure.due import register_inbox

        register_inbox()

        # The home page's "Donation disclosure" tile opens the society's disclosure page.
        from rendao.core.services_catalogue import register_service_url

        register_service_url("donation-disclosure", "disclosure:open_society")
