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
