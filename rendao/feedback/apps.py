from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "rendao.feedback"
    label = "feedback"
    verbose_name = _("Donor feedback")

    def ready(self) -> None:
        # The "use_report" message type must exist before the provider-template
        # settings are checked and before the first fan-out.
        from rendao.feedback import messages  # noqa: F401
