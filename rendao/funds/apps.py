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
