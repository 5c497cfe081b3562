"""Proactive feedback to donors (Red Cross Law Art 21, Charity Law Art 42).

When a project's money is paid out or its goods handed over, one `UseReport`
is written: what was used, for what, for which institution or category — never
a person — with the transparency-log entry that proves it. Every donor of the
project sees the reports on their "my donations" page; donors who chose to be
told get one message each through the outbox (`UseNotice`, unique per report
and donation, so a retried fan-out never tells anyone twice).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UseKind(models.TextChoices):
    MONEY = "money", _("Money paid out")
    GOODS = "goods", _("Goods handed over")
    WRITE_OFF = "write_off", _("Goods written off")


class UseReport(models.Model):
    project = models.ForeignKey(
        "funds.FundraisingProject",
        on_delete=models.PROTECT,
        related_name="use_reports",
        verbose_name=_("project"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=UseKind.choices)
    # The business record it reports: "disbursement-payment:<bank ref>", "distribution:<number>"…
    source = models.CharField(_("source"), max_length=80, unique=True)
    amount_fen = models.BigIntegerField(_("amount or estimated value (fen)"))
    # A summary such as "书包 × 200 个; 文具套装 × 200 套" for goods; empty for money.
    items = models.CharField(_("items"), max_length=500, blank=True)
    recipient = models.CharField(_("recipient institution or category"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=300)
    ledger_index = models.BigIntegerField(_("log entry"))
    occurred_at = models.DateTimeField(_("at"), default=timezone.now)
    # Set once the fan-out to donors has been queued to the end.
    notified_at = models.DateTimeField(_("donors notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("use report")
        verbose_name_plural = _("use reports")
        ordering = ("-occurred_at", "-id")
        indexes = [models.Index(fields=["project", "-occurred_at"], name="feedback_report_project_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="feedback_amount_not_negative")
        ]

    def __str__(self) -> str:
        return self.source


class UseNotice(models.Model):
    """One donor told about one use report (through the outbox)."""

    report = models.ForeignKey(
        UseReport, on_delete=models.PROTECT, related_name="notices", verbose_name=_("report")
    )
    donation = models.ForeignKey(
        "funds.Donation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("donation"),
    )
    intake = models.ForeignKey(
        "goods.Intake",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("goods intake"),
    )
    channel = models.CharField(_("channel"), max_length=30)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("use notice")
        verbose_name_plural = _("use notices")
        constraints = [
            models.UniqueConstraint(fields=["report", "donation"], name="feedback_notice_once_per_donation"),
            models.UniqueConstraint(fields=["report", "intake"], name="feedback_notice_once_per_intake"),
            models.CheckConstraint(
                condition=Q(donation__isnull=False) | Q(intake__isnull=False),
                name="feedback_notice_has_donor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}→{self.donation_id or self.intake_id}"
