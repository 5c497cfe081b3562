from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    name = "rendao.disbursements"
    label = "disbursements"
    verbose_name = _("Disbursements")
