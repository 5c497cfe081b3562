from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecipientsConfig(AppConfig):
    name = "rendao.recipients"
    label = "recipients"
    verbose_name = _("Recipient institutions")
