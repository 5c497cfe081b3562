from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "rendao.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Registers the system checks and the task definitions.
        from rendao.core import checks, tasks  # noqa: F401
