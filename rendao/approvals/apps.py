from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "rendao.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        # The engine's own process type (matters for approval) and the
        # workbench inbox provider register themselves on import.
        from rendao.approvals import inbox, matters  # noqa: F401
