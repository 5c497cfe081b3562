"""Published disclosures (信息公开): versioned, and frozen once published.

Every version of one disclosure shares a `series` UUID; a correction is a new
version (`corrects` points at the published version it replaces) and the older
version stays published. The database refuses UPDATE and DELETE of published
rows (migration 0002), so a published text can never be rewritten in place.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rendao.disclosure.calendar import DisclosureKind


class Kind(models.TextChoices):
    PROGRESS_QUARTERLY = DisclosureKind.PROGRESS_QUARTERLY.value, DisclosureKind.PROGRESS_QUARTERLY.label
    FINAL_ACCOUNT = DisclosureKind.FINAL_ACCOUNT.value, DisclosureKind.FINAL_ACCOUNT.label
    EMERGENCY_RECEIPTS = DisclosureKind.EMERGENCY_RECEIPTS.value, DisclosureKind.EMERGENCY_RECEIPTS.label
    RELATED_PARTY = DisclosureKind.RELATED_PARTY.value, DisclosureKind.RELATED_PARTY.label
    MAJOR_TRANSACTION = DisclosureKind.MAJOR_TRANSACTION.value, DisclosureKind.MAJOR_TRANSACTION.label
    ANNUAL_REPORT = DisclosureKind.ANNUAL_REPORT.value, DisclosureKind.ANNUAL_REPORT.label
    ANNUAL_AUDIT = DisclosureKind.ANNUAL_AUDIT.value, DisclosureKind.ANNUAL_AUDIT.label
    PROGRESS_UPDATE = "progress_update", _("Progress update")
    OTHER = "other", _("Other")


class DisclosureStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Disclosure(models.Model):
    Status = DisclosureStatus

    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="disclosures", verbose_name=_("branch")
    )
    project = models.ForeignKey(
        "funds.FundraisingProject",
        on_delete=models.PROTECT,
        related_name="disclosures",
        null=True,
        blank=True,
        verbose_name=_("fundraising project"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    # {label: integer fen}; validated by the services (no floats, no bools).
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DisclosureStatus.choices, default=DisclosureStatus.DRAFT
    )
    series = models.UUIDField(_("series"), default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="corrections",
        null=True,
        blank=True,
        verbose_name=_("corrects"),
    )
    correction_note = models.TextField(_("correction note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    ledger_index = models.PositiveBigIntegerField(_("ledger index"), null=True, blank=True)

    class Meta:
        ordering = ["series", "version"]
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="disclosure_series_version_unique"),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")), name="disclosure_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_note=""),
                name="disclosure_correction_has_note",
            ),
            models.CheckConstraint(
                condition=Q(status=DisclosureStatus.DRAFT)
                | Q(published_at__isnull=False, published_by__isnull=False, ledger_index__isnull=False),
                name="disclosure_published_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "branch"], name="disclosure_status_branch")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"
