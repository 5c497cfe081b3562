from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoodsConfig(AppConfig):
    name = "rendao.goods"
    label = "goods"
    verbose_name = _("In-kind goods")

    def ready(self) -> None:
        # Photos of goods as they arrive are uploads of their own purpose.
        from rendao.goods.upload_purposes import register_purposes

        register_purposes()

        # `ledger_audit` re-derives the goods received / moved and stock-take leaves.
        from rendao.goods.ledger_audit import register_rederivers

        register_rederivers()

        # The issue, write-off and sign-off leaves are re-derived by the distribution code.
        from rendao.goods.ledger_audit_distribution import register_rederivers as register_distribution

        register_distribution()

        # Distribution orders and write-offs: their approval process types, the
        # signed sign-off form upload, and the re-derivers of their log leaves.
        from rendao.goods import distribution, ledger_audit_distribution, writeoffs

        distribution.register_process_type()
        distribution.register_upload_purpose()
        writeoffs.register_process_type()
        ledger_audit_distribution.register_rederivers()
