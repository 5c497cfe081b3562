from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "rendao.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Registers the system checks, the task definitions and the sign-in
        # time stamp (a user_logged_in receiver in middleware.py).
        from rendao.core import checks, middleware, signals, tasks  # noqa: F401
