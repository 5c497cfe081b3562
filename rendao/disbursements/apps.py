from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    name = "rendao.disbursements"
    label = "disbursements"
    verbose_name = _("Disbursements")

    def ready(self) -> None:
        from rendao.disbursements.services import register_process_type

        register_process_type()

        from rendao.disbursements.ledger_audit import register_rederivers

        register_rederivers()

        from rendao.disbursements.upload_purposes import register_purposes

        register_purposes()

        # Bank statements confirm payouts: `ledger_audit` re-derives those leaves too.
        from rendao.disbursements.statements import register_payout_rederiver

        register_payout_rederiver()

        # The Charity-law watch puts its items on the staff workbench (Art 40, Art 61).
        import rendao.disbursements.watch  # noqa: F401
