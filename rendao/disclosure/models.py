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
from django.utils import timezone
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
    IN_APPROVAL = "in_approval", _("In approval")
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
                condition=~Q(status=DisclosureStatus.PUBLISHED)
                | Q(published_at__isnull=False, published_by__isnull=False, ledger_index__isnull=False),
                name="disclosure_published_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "branch"], name="disclosure_status_branch")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class FollowAttempt(models.Model):
    """One "follow my donation" look-up by receipt number, kept to throttle guessing.

    Only keyed digests are stored (rendao.disclosure.follow): the rows count
    failures per caller and per receipt number across processes, and say nothing
    about who looked up which receipt. Purged after a day (follow_attempts_purge).
    """

    ip_digest = models.CharField(_("caller digest"), max_length=64)
    number_digest = models.CharField(_("receipt number digest"), max_length=64)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("follow attempt")
        verbose_name_plural = _("follow attempts")
        indexes = [
            models.Index(fields=["ip_digest", "at"], name="disclosure_follow_ip_at"),
            models.Index(fields=["number_digest", "at"], name="disclosure_follow_number_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.succeeded else 'failed'}"


# --- The calendar's overdue notices (issue 7) -------------------------------------------


class DueNoticeStage(models.TextChoices):
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class DueNotice(models.Model):
    """One notice about one due disclosure, sent to one branch's finance staff.

    The row is written before the messages, in the same transaction; its unique
    identity makes a second run of the daily job, or two runs at once, skip what
    was already sent.
    """

    Stage = DueNoticeStage

    # The calendar's subject key: "project:<id>", "disbursement:<id>" or "branch:<id>".
    subject = models.CharField(_("subject"), max_length=64)
    kind = models.CharField(_("kind"), max_length=32, choices=DisclosureKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    due_on = models.DateField(_("due on"))
    stage = models.CharField(_("stage"), max_length=16, choices=DueNoticeStage.choices)
    # The branch whose finance staff were told: the responsible branch or its parent.
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("notified branch")
    )
    responsible = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible branch")
    )
    recipients = models.PositiveIntegerField(_("messages sent"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("disclosure due notice")
        verbose_name_plural = _("disclosure due notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "kind", "period_start", "period_end", "stage", "branch"],
                name="disclosure_duenotice_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.period_end} → {self.branch_id}"
