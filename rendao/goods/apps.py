from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoodsConfig(AppConfig):
    name = "rendao.goods"
    label = "goods"
    verbose_name = _("In-kind goods")
