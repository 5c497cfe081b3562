"""Disbursements (资金拨付): money leaving a fund for a payee, from request to sign-off.

A request reserves its amount on the fund account (`Account.reserved_fen`) so
two requests can never promise the same money; approval goes through the
approvals engine; finance records bank transfers (partial payments allowed),
each posting a journal entry and a log leaf; the payee confirms receipt or
disputes it. Bank statements are imported and matched against the transfers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """What the money is spent on: Charity Law Art 61 ratios are computed from this."""

    CHARITABLE = "charitable", _("Charitable activity")
    MANAGEMENT = "management", _("Management cost")
    FUNDRAISING = "fundraising", _("Fundraising cost")


class Status(models.TextChoices):
    REQUESTED = "requested", _("Requested, in approval")
    APPROVED = "approved", _("Approved, not yet paid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid, awaiting the payee's confirmation")
    SIGNED_OFF = "signed_off", _("Receipt confirmed by the payee")
    DISPUTED = "disputed", _("Disputed by the payee")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the requester")
    CANCELLED = "cancelled", _("Cancelled before payment")


# Statuses whose unpaid remainder is still reserved on the fund.
RESERVING = (Status.REQUESTED, Status.APPROVED, Status.PARTLY_PAID)


class Disbursement(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("branch")
    )
    # The fund the money leaves: a project's restricted fund or a general fund.
    fund = models.ForeignKey(
        "funds.Account", on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("fund")
    )
    project = models.ForeignKey(
        "funds.FundraisingProject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disbursements",
        verbose_name=_("fundraising project"),
    )
    payee = models.ForeignKey(
        "recipients.Institution",
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("payee"),
    )
    # Copied from the payee when requested: a later change of the flag does not rewrite history.
    related_party = models.BooleanField(_("related party (Art 40)"), default=False)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    paid_fen = models.BigIntegerField(_("paid (fen)"), default=0)
    purpose = models.CharField(_("purpose"), max_length=300)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    # The payee's bank account, as on the payee's invoice or letter (an organisation's, not a person's).
    payee_bank_account = models.CharField(_("payee bank account"), max_length=100)
    documents = models.ManyToManyField(
        "uploads.Attachment", blank=True, related_name="+", verbose_name=_("supporting documents")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    approval_request = models.ForeignKey(
        "approvals.ApprovalRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approval request"),
    )
    # Filled when the payee signs off or disputes (the latest word counts).
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ("-requested_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="disb_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_fen__gte=0) & Q(paid_fen__lte=F("amount_fen")),
                name="disb_paid_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="disb_project_status_idx"),
            models.Index(fields=["branch", "status"], name="disb_branch_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen


class DisbursementEvent(models.Model):
    """One step of a disbursement's life; append-only, the page's timeline."""

    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="events", verbose_name=_("disbursement")
    )
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The transparency-log entry this step appended, if any.
    ledger_index = models.BigIntegerField(_("log entry"), null=True, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("disbursement event")
        verbose_name_plural = _("disbursement events")
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.disbursement_id} {self.from_status}→{self.to_status}"


class Payment(models.Model):
    """A bank transfer finance made against a disbursement (one of possibly several)."""

    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="payments", verbose_name=_("disbursement")
    )
    # The bank's reference for the transfer: what the statement line carries.
    bank_reference = models.CharField(_("bank reference"), max_length=64, unique=True)
    paid_on = models.DateField(_("paid on"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    journal_entry = models.OneToOneField(
        "funds.JournalEntry", on_delete=models.PROTECT, related_name="+", verbose_name=_("journal entry")
    )
    ledger_index = models.BigIntegerField(_("log entry"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # Set when a bank statement line confirms it (payout_confirmed leaf).
    confirmed_by_statement = models.ForeignKey(
        "disbursements.StatementLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by statement line"),
    )

    class Meta:
        verbose_name = _("disbursement payment")
        verbose_name_plural = _("disbursement payments")
        ordering = ("paid_on", "id")
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="disb_payment_positive")]

    def __str__(self) -> str:
        return self.bank_reference


class SignoffKind(models.TextChoices):
    CONFIRMED = "confirmed", _("Receipt confirmed")
    DISPUTED = "disputed", _("Disputed")
    RESOLVED = "resolved", _("Dispute resolved")


class Signoff(models.Model):
    """The payee's word on what arrived: through the signed link, or a signed form uploaded by staff."""

    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="signoffs", verbose_name=_("disbursement")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=SignoffKind.choices)
    received_fen = models.BigIntegerField(_("amount received (fen)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # The payee's representative who signed through the link, or the staff member who uploaded the form.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    by_staff_upload = models.BooleanField(_("signed form uploaded by staff"), default=False)
    form = models.ForeignKey(
        "uploads.Attachment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed form"),
    )
    ledger_index = models.BigIntegerField(_("log entry"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("disbursement sign-off")
        verbose_name_plural = _("disbursement sign-offs")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(by_staff_upload=False) | Q(form__isnull=False),
                name="disb_signoff_upload_has_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disbursement_id} {self.kind}"


class Statement(models.Model):
    """One imported bank statement file (CSV or XLSX) of a branch's bank account."""

    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    filename = models.CharField(_("file name"), max_length=200)
    # Importing the same file twice changes nothing.
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    matched_count = models.PositiveIntegerField(_("matched"), default=0)
    difference_count = models.PositiveIntegerField(_("differences"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    ledger_index = models.BigIntegerField(_("log entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ("-imported_at", "-id")

    def __str__(self) -> str:
        return self.filename


class StatementLine(models.Model):
    """One outgoing transfer on a statement."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement")
    )
    line_no = models.PositiveIntegerField(_("line"))
    booked_on = models.DateField(_("booked on"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    reference = models.CharField(_("bank reference"), max_length=64)
    counterparty = models.CharField(_("counterparty"), max_length=200, blank=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("payment")
    )

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ("statement", "line_no")
        constraints = [
            models.UniqueConstraint(fields=["statement", "line_no"], name="disb_statement_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.line_no}"


class DifferenceKind(models.TextChoices):
    UNKNOWN_REFERENCE = "unknown_reference", _("On the statement, no payment recorded with this reference")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs from the recorded payment")
    DATE_MISMATCH = "date_mismatch", _("Booked on a different day than recorded")
    NOT_ON_STATEMENT = "not_on_statement", _("Recorded payment missing from the statement")
    DUPLICATE_REFERENCE = "duplicate_reference", _("Reference appears more than once")


class StatementDifference(models.Model):
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="differences", verbose_name=_("statement")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=DifferenceKind.choices)
    line = models.ForeignKey(
        StatementLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("line"),
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("payment")
    )
    reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    statement_fen = models.BigIntegerField(_("on the statement (fen)"), null=True, blank=True)
    recorded_fen = models.BigIntegerField(_("recorded (fen)"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("statement difference")
        verbose_name_plural = _("statement differences")
        ordering = ("statement", "id")

    def __str__(self) -> str:
        return f"{self.statement_id} {self.kind}"
