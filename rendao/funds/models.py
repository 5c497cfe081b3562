"""Fund accounts kept by double entry.

Sign convention: every account's `balance_fen` is kept on its *normal side*.
For a debit-normal account (clearing, bank, costs) it is Σ debits − Σ credits;
for a credit-normal account (funds, refunds payable) it is Σ credits − Σ debits.
So a restricted fund's balance is "money still held for the project", and the
rule "a restricted fund never goes below zero" is simply `balance_fen >= 0`
for that kind, enforced by a database CheckConstraint behind the service check.

Journal entries and lines are append-only (triggers in 0002): a correction is a
new reversing entry, never an edit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Kind(models.TextChoices):
        RESTRICTED_FUND = "restricted_fund", _("Restricted project fund")
        GENERAL_FUND = "general_fund", _("General (unrestricted) fund")
        CHANNEL_CLEARING = "channel_clearing", _("Payment channel clearing")
        BANK = "bank", _("Bank account")
        REFUNDS_PAYABLE = "refunds_payable", _("Refunds payable")
        MANAGEMENT_COST = "management_cost", _("Management cost")
        PROJECT_EXPENSE = "project_expense", _("Project expenditure")

    class Side(models.TextChoices):
        DEBIT = "debit", _("Debit")
        CREDIT = "credit", _("Credit")

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="fund_accounts", verbose_name=_("branch")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Kept up to date by `journal_post` in the posting transaction, on the
    # account's normal side (see the module docstring); `accounts_recompute`
    # checks it against the journal.
    balance_fen = models.BigIntegerField(_("balance (fen)"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The fundraising project a restricted fund belongs to (opened at filing).
    project = models.ForeignKey(
        "funds.FundraisingProject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("fundraising project"),
    )

    class Meta:
        verbose_name = _("fund account")
        verbose_name_plural = _("fund accounts")
        ordering = ("code",)
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="restricted_fund") | Q(balance_fen__gte=0),
                name="funds_account_restricted_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def normal_side(self) -> str:
        return NORMAL_SIDE[self.kind]

    def signed_change(self, *, debit_fen: int, credit_fen: int) -> int:
        """How much a line changes this account's balance on its normal side."""
        if self.normal_side == Account.Side.DEBIT:
            return debit_fen - credit_fen
        return credit_fen - debit_fen


# Assets and costs grow by debits; funds (net assets) and liabilities by credits.
NORMAL_SIDE: dict[str, str] = {
    Account.Kind.RESTRICTED_FUND: Account.Side.CREDIT,
    Account.Kind.GENERAL_FUND: Account.Side.CREDIT,
    Account.Kind.CHANNEL_CLEARING: Account.Side.DEBIT,
    Account.Kind.BANK: Account.Side.DEBIT,
    Account.Kind.REFUNDS_PAYABLE: Account.Side.CREDIT,
    Account.Kind.MANAGEMENT_COST: Account.Side.DEBIT,
    Account.Kind.PROJECT_EXPENSE: Account.Side.DEBIT,
}


class JournalEntry(models.Model):
    """One balanced business event (a donation, a refund, a transfer…); append-only."""

    posted_at = models.DateTimeField(_("posted at"), default=timezone.now, db_index=True)
    reason = models.CharField(_("reason"), max_length=200)
    # What the entry is about, e.g. "donation:123"; no personal data.
    reference = models.CharField(_("reference"), max_length=100, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # One-to-one: the unique index makes "reversed at most once" hold even for
    # two concurrent reversals.
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ("id",)

    def __str__(self) -> str:
        return f"#{self.pk} {self.reference}"


class JournalLine(models.Model):
    """One side of an entry on one account; append-only."""

    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", verbose_name=_("entry")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="lines", verbose_name=_("account")
    )
    debit_fen = models.BigIntegerField(_("debit (fen)"), default=0)
    credit_fen = models.BigIntegerField(_("credit (fen)"), default=0)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit_fen__gt=0) & Q(credit_fen=0)) | (Q(debit_fen=0) & Q(credit_fen__gt=0)),
                name="funds_journalline_one_side_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} D{self.debit_fen} C{self.credit_fen}"


# --- Fundraising projects (募捐项目, Charity Law Art 24–26, 73) ----------------------


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_APPROVAL = "in_approval", _("In approval")
    APPROVED = "approved", _("Approved")
    FILED = "filed", _("Filed with the civil affairs department")
    OPEN = "open", _("Open for donations")
    CLOSED = "closed", _("Closed")
    FINAL_REPORT_PUBLISHED = "final_report_published", _("Final report published")


class FundraisingProject(models.Model):
    """A public fundraising project and its plan (募捐方案, Charity Law Art 24).

    The responsible person is named with an office address only: the plan is
    published, so it carries no personal contact data.
    """

    Status = ProjectStatus

    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="fundraising_projects", verbose_name=_("branch")
    )
    title = models.CharField(_("title"), max_length=200)
    purpose = models.TextField(_("purpose"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    area = models.CharField(_("area"), max_length=200)
    responsible_name = models.CharField(_("responsible person"), max_length=100)
    responsible_office_address = models.CharField(_("responsible person's office address"), max_length=300)
    # Codes of rendao.funds.payments.CHANNELS.
    channels = models.JSONField(_("accepted channels"), default=list)
    bank_account = models.CharField(_("receiving bank account"), max_length=200)
    beneficiaries = models.TextField(_("beneficiaries"))
    intended_use = models.TextField(_("intended use"))
    cost_fen = models.BigIntegerField(_("fundraising cost (fen)"), default=0)
    leftover_handling = models.TextField(_("handling of leftover property"))
    target_fen = models.BigIntegerField(_("target amount (fen)"))
    restricted = models.BooleanField(_("restricted (定向)"), default=False)
    emergency = models.BooleanField(_("emergency"), default=False)
    status = models.CharField(
        _("status"), max_length=32, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
    )
    filing_number = models.CharField(_("filing number"), max_length=64, blank=True)
    filed_on = models.DateField(_("filing date"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    # Emergency projects may open before filing and must be filed within 10
    # days of opening (Art 24 / the civil affairs filing rules): the deadline.
    filing_deadline = models.DateField(_("filing deadline"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    final_report_published_on = models.DateField(_("final report published on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("fundraising project")
        verbose_name_plural = _("fundraising projects")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(target_fen__gt=0), name="funds_project_target_positive"),
            models.CheckConstraint(condition=Q(cost_fen__gte=0), name="funds_project_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="funds_project_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ProjectStatus.values), name="funds_project_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ProjectEvent(models.Model):
    """One status change of a project: who, when, from what to what."""

    project = models.ForeignKey(
        FundraisingProject, on_delete=models.PROTECT, related_name="events", verbose_name=_("project")
    )
    from_status = models.CharField(_("from"), max_length=32, choices=ProjectStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=32, choices=ProjectStatus.choices)
    # Empty when the approvals engine moved it (the decider is in its own records).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("project event")
        verbose_name_plural = _("project events")
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.project_id} {self.from_status}→{self.to_status}"


class CoInitiator(models.Model):
    """An organisation co-initiating a project (合作募捐, Charity Law Art 26)."""

    project = models.ForeignKey(
        FundraisingProject, on_delete=models.PROTECT, related_name="co_initiators", verbose_name=_("project")
    )
    organisation_name = models.CharField(_("organisation"), max_length=200)
    # Our assessment of the partner (Art 26: the society checks its partners).
    assessment_note = models.TextField(_("assessment"))
    agreement = models.ForeignKey(
        "uploads.Attachment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agreement"),
    )
    role = models.CharField(_("role"), max_length=100)
    # Random and url-safe: it goes into the attribution link, so it must not
    # reveal or let anyone guess other partners' codes.
    attribution_code = models.CharField(_("attribution code"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("co-initiator")
        verbose_name_plural = _("co-initiators")
        ordering = ("id",)

    def __str__(self) -> str:
        return self.organisation_name
