from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UploadsConfig(AppConfig):
    name = "rendao.uploads"
    label = "uploads"
    verbose_name = _("Attachments")

    def ready(self) -> None:
        from rendao.uploads import checks, purposes, storage  # noqa: F401

        purposes.guard_pillow()
