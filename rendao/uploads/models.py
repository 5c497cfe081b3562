from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.privacy.fields import EncryptedTextField


class Attachment(models.Model):
    """A validated uploaded file: proof document, photo, certificate, import.

    The bytes live in the uploads storage under `storage_name`, a random name
    that says nothing about the file; this row says what they are and whose.
    Nothing is de-duplicated across users: two people uploading the same file
    get two rows and two copies, so the hash never tells one user that another
    holds the same document.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A code from rendao.uploads.purposes: decides the checks and who may read.
    purpose = models.CharField(_("purpose"), max_length=50, db_index=True)
    branch = models.ForeignKey(
        "core.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("branch"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    # The name the uploader gave, cleaned, for display and downloads only; never a
    # path. Sealed in the vault: people name files after themselves
    # ("张三身份证.jpg", "13800138000.pdf").
    original_name = EncryptedTextField(_("file name"))
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    storage_name = models.CharField(max_length=200, unique=True, editable=False)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="uploads_attachment_not_empty"),
            models.CheckConstraint(
                condition=(models.Q(width__isnull=True) & models.Q(height__isnull=True))
                | (models.Q(width__gt=0) & models.Q(height__gt=0)),
                name="uploads_attachment_dimensions_both_or_none",
            ),
        ]
        indexes = [models.Index(fields=["branch", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.pk}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
