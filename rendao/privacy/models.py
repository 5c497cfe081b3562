from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from rendao.privacy.fields import BlindIndexField, EncryptedTextField


class Identity(models.Model):
    """A person's real-name identity (实名), kept once for every service that needs it.

    Volunteering, first-aid certificates, aid applications and donor registration
    all need the same real name and ID number; keeping them here, encrypted, means
    one place to protect, correct and erase. The birth date is not stored: it is
    read from the ID number when needed, so nothing about a child sits in clear.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="identity",
        verbose_name=_("user"),
    )
    real_name = EncryptedTextField(_("real name"))
    id_number = EncryptedTextField(_("ID card number"))
    id_number_index = BlindIndexField(source="id_number", purpose="id_number", unique=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self) -> str:
        return f"identity {self.pk}"

    @property
    def birth_date(self) -> dt.date | None:
        return ric.get_birth_date(self.id_number) if self.id_number else None
