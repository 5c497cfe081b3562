from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "rendao.privacy"
    label = "privacy"
    verbose_name = _("Personal data")

    def ready(self) -> None:
        # The system checks, and the workbench inbox provider for data-subject requests.
        from rendao.privacy import checks, selectors  # noqa: F401
