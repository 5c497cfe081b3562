from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    name = "rendao.funds"
    label = "funds"
    verbose_name = _("Funds")

    def ready(self) -> None:
        from django.core.checks import register

        from rendao.funds.payments.checks import check_payment_channels

        # A channel enabled without its keys (or the sandbox in production) is an
        # error at start-up, not at the first donation.
        register()(check_payment_channels)

        # The "fundraising_plan" process type of the approvals engine.
        from rendao.funds.projects import register_process_type

        register_process_type()

        # An erased account's donations lose name and number, keep the money facts.
        from rendao.funds.erasure import donations_pseudonymise
        from rendao.privacy.services import register_erasure_handler

        register_erasure_handler("funds.donations", donations_pseudonymise)

        # `ledger_audit` re-derives donation and refund leaves from these rows.
        from rendao.funds.ledger_audit import register_rederivers

        register_rederivers()

        # The home page's "Give online" tile links to the public project list.
        from rendao.core.services_catalogue import register_service_url

        register_service_url("online-giving", "funds:give_list")

        # Co-initiators' written agreements (Art 26) are uploads of their own purpose.
        from rendao.funds.upload_purposes import register_purposes

        register_purposes()
