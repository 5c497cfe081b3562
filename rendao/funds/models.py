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

from rendao.privacy.fields import BlindIndexField, EncryptedTextField


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
    # Promised to disbursement requests not yet paid (rendao.disbursements): the
    # fund's available balance is balance − reserved, and a request or a refund
    # can only take what is available.
    reserved_fen = models.BigIntegerField(_("reserved (fen)"), default=0)
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
            models.CheckConstraint(
                condition=Q(reserved_fen__gte=0), name="funds_account_reserved_not_negative"
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
    # Kept by the donation services in the payment's transaction (the project's
    # fund account row is locked there already), so the public page reads the
    # progress from one row however many donations there are. Net of refunds.
    raised_fen = models.BigIntegerField(_("raised (fen)"), default=0)
    donation_count = models.PositiveIntegerField(_("donations"), default=0)
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


# --- Donations (在线捐款): the order, the channel's notifications, receipts -----------


class DonationStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PAYING = "paying", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")
    EXPIRED = "expired", _("Expired")
    CLOSED = "closed", _("Closed")


class Donation(models.Model):
    """One online donation: the order at the payment channel and, once paid, the gift.

    The donor's name and mobile number are personal data (encrypted, never in the
    log or the public list); `public_name` is what the project page shows: the
    masked name, or 爱心人士 for anonymous donors. Amounts are integer fen.
    """

    Status = DonationStatus

    out_trade_no = models.CharField(_("order number"), max_length=32, unique=True)
    project = models.ForeignKey(
        FundraisingProject, on_delete=models.PROTECT, related_name="donations", verbose_name=_("project")
    )
    # The project's branch, copied so that staff scope filters need no join.
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="donations", verbose_name=_("branch")
    )
    co_initiator = models.ForeignKey(
        CoInitiator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
        verbose_name=_("attributed to co-initiator"),
    )
    channel = models.CharField(_("payment channel"), max_length=32)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    status = models.CharField(
        _("status"), max_length=20, choices=DonationStatus.choices, default=DonationStatus.CREATED
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="donations",
        verbose_name=_("donor account"),
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    donor_name = EncryptedTextField(_("donor name"), blank=True)
    donor_mobile = EncryptedTextField(_("donor mobile"), blank=True)
    # Lets a donor who signs in later with the same number find their donations.
    donor_mobile_index = BlindIndexField(source="donor_mobile", purpose="mobile")
    public_name = models.CharField(_("public name"), max_length=50)
    # Red Cross Law Art 20: the donor may waive the receipt; both choices are recorded.
    receipt_wanted = models.BooleanField(_("receipt wanted"), default=True)
    # Art 21 / Art 42 feedback: tell this donor when the project's money or goods
    # are used (through their account's channel, else by SMS to the mobile given).
    feedback_wanted = models.BooleanField(_("tell me how it is used"), default=True)
    # The transparency-log commitment of this donor: SHA-256(0x02 ‖ salt ‖ out_trade_no);
    # the salt is sealed and printed only on the donor's own receipt.
    commitment_salt = EncryptedTextField(_("commitment salt"), blank=True)
    commitment = models.CharField(_("commitment"), max_length=64, blank=True)
    # A capability: the "follow my donation" link works for whoever holds it.
    follow_token = models.CharField(_("follow token"), max_length=43, unique=True)
    # API clients' Idempotency-Key, with the fingerprint of the body first sent with it.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, null=True, blank=True, unique=True
    )
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    # When the sweeper last asked the channel about this unpaid order.
    checked_at = models.DateTimeField(_("last checked at the channel"), null=True, blank=True)
    # NULL until paid, so the unique (channel, txn id) constraint skips unpaid orders.
    channel_txn_id = models.CharField(  # noqa: DJ001
        _("channel transaction id"), max_length=64, null=True, blank=True
    )
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    # Money that arrived for an order we had already expired or closed: recorded,
    # credited to refunds payable rather than the project, and shown to finance.
    refund_flagged = models.BooleanField(_("flagged for refund"), default=False)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    journal_entry = models.OneToOneField(
        JournalEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donation",
        verbose_name=_("journal entry"),
    )

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ("-created_at", "-id")
        indexes = [
            # The public page's "recent donations" and the sweeper's "still open" scans.
            models.Index(fields=["project", "status", "-paid_at"], name="funds_donation_recent"),
            models.Index(fields=["status", "expires_at"], name="funds_donation_open"),
            models.Index(fields=["branch", "-created_at"], name="funds_donation_branch"),
            # Open data pages one project's donations by id (rendao/disclosure/open_data.py).
            models.Index(fields=["project", "id"], name="funds_donation_project_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="funds_donation_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & Q(refunded_fen__lte=models.F("amount_fen")),
                name="funds_donation_refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DonationStatus.values), name="funds_donation_status_valid"
            ),
            # One channel transaction pays at most one donation, once.
            models.UniqueConstraint(
                fields=["channel", "channel_txn_id"],
                condition=Q(channel_txn_id__isnull=False),
                name="funds_donation_unique_txn",
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no

    @property
    def is_paid(self) -> bool:
        return self.status in {DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED, DonationStatus.REFUNDED}

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.is_paid else 0


class NotificationNonce(models.Model):
    """Every accepted notification's nonce, so a captured one cannot be replayed.

    Kept a day (the channels refuse timestamps more than 5 minutes off, so an
    older nonce can no longer pass verification anyway), then purged.
    """

    channel = models.CharField(_("channel"), max_length=32)
    nonce = models.CharField(_("nonce"), max_length=64)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("notification nonce")
        verbose_name_plural = _("notification nonces")
        constraints = [
            models.UniqueConstraint(fields=["channel", "nonce"], name="funds_notificationnonce_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.nonce}"


class NotificationRejection(models.Model):
    """A notification that was refused: a security event for finance to see.

    Holds no payer data: the reason names the failed check, the body only by hash.
    """

    class Reason(models.TextChoices):
        FORGED = "forged", _("Signature, key or timestamp check failed")
        MALFORMED = "malformed", _("Unreadable notification")
        REPLAYED = "replayed", _("Replayed notification")
        UNKNOWN_ORDER = "unknown_order", _("No such order")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs from the order")
        TXN_MISMATCH = "txn_mismatch", _("Transaction differs from the one recorded")
        CHANNEL_MISMATCH = "channel_mismatch", _("Paid through another channel than ordered")
        UNKNOWN_CHANNEL = "unknown_channel", _("Unknown or disabled channel")

    channel = models.CharField(_("channel"), max_length=32)
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    out_trade_no = models.CharField(_("order number"), max_length=64, blank=True)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64)
    remote_ip = models.GenericIPAddressField(_("remote IP"), null=True, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("rejected notification")
        verbose_name_plural = _("rejected notifications")
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.channel} {self.reason} {self.at:%Y-%m-%d %H:%M}"


class ReceiptCounterRow(models.Model):
    """The last receipt serial of one issuing branch in one year (numbering.ReceiptCounter)."""

    branch_code = models.CharField(_("issuing branch code"), max_length=6)
    year = models.PositiveIntegerField(_("year"))
    last_serial = models.PositiveIntegerField(_("last serial"), default=0)

    class Meta:
        verbose_name = _("receipt counter")
        verbose_name_plural = _("receipt counters")
        constraints = [
            models.UniqueConstraint(fields=["branch_code", "year"], name="funds_receiptcounter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.branch_code}-{self.year}: {self.last_serial}"


class Receipt(models.Model):
    """The donation receipt (捐赠票据, Charity Law Art 38) of one donation.

    What is printed is frozen here at issue time, so the PDF can be rendered again
    identically; `check_code` goes into the QR code so that the public verification
    page cannot be walked by guessing numbers.
    """

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        VOIDED = "voided", _("Voided")
        PENDING = "pending", _("Pending at the issuer")

    donation = models.OneToOneField(
        Donation, on_delete=models.PROTECT, related_name="receipt", verbose_name=_("donation")
    )
    number = models.CharField(_("receipt number"), max_length=20, unique=True)
    branch_code = models.CharField(_("issuing branch code"), max_length=6)
    year = models.PositiveIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    check_code = models.CharField(_("check code"), max_length=16)
    issuer = models.CharField(_("issuer"), max_length=32, default="local")
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ISSUED)
    issued_on = models.DateField(_("issued on"))
    organisation = models.CharField(_("organisation"), max_length=200)
    handled_by = models.CharField(_("handled by"), max_length=100)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["branch_code", "year", "serial"], name="funds_receipt_unique_serial"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="funds_receipt_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    PROCESSING = "processing", _("Processing at the channel")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """A refund of (part of) a paid donation, idempotent by its refund number.

    The row is written (requested) before the channel is asked, so a crash in
    between leaves a record to finish; the money is recorded (reversing journal
    entry, ledger leaf, donation totals) only once the channel confirms.
    """

    Status = RefundStatus

    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("donation")
    )
    # Our refund number (WeChat out_refund_no, Alipay out_request_no): the idempotency key.
    out_refund_no = models.CharField(_("refund number"), max_length=64, unique=True)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    channel_refund_id = models.CharField(_("channel refund id"), max_length=64, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    journal_entry = models.OneToOneField(
        JournalEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund",
        verbose_name=_("journal entry"),
    )
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["status", "created_at"], name="funds_refund_open")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="funds_refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="funds_refund_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.out_refund_no


class ReconciliationRun(models.Model):
    """One channel's bill of one day compared with our records (rendao.funds.reconciliation).

    Written once, with its differences, in the transaction that appends its
    ledger leaf; never updated. Importing the same bill again returns this row.
    """

    class Source(models.TextChoices):
        DOWNLOAD = "download", _("Downloaded from the channel")
        UPLOAD = "upload", _("Uploaded by staff")

    class Status(models.TextChoices):
        BALANCED = "balanced", _("Balanced")
        DIFFERENCES = "differences", _("Differences found")

    channel = models.CharField(_("payment channel"), max_length=32)
    # The bill's day, in China time (the channels' day).
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    bill_sha256 = models.CharField(_("bill SHA-256"), max_length=64)
    bill_count = models.PositiveIntegerField(_("rows in the bill"))
    local_count = models.PositiveIntegerField(_("local records"))
    matched_count = models.PositiveIntegerField(_("matched"))
    channel_paid_fen = models.BigIntegerField(_("paid at the channel (fen)"))
    channel_refunded_fen = models.BigIntegerField(_("refunded at the channel (fen)"))
    local_paid_fen = models.BigIntegerField(_("paid in our records (fen)"))
    local_refunded_fen = models.BigIntegerField(_("refunded in our records (fen)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ("-day", "-created_at", "-id")
        constraints = [
            # The same bill imported twice is one run.
            models.UniqueConstraint(
                fields=["channel", "day", "bill_sha256"], name="funds_reconciliationrun_unique_bill"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["balanced", "differences"]),
                name="funds_reconciliationrun_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.day}"


class ReconciliationDifference(models.Model):
    """One disagreement between a channel's bill and our records, for finance to resolve."""

    class Kind(models.TextChoices):
        MISSING_LOCALLY = "missing_locally", _("Paid at the channel, not recorded here")
        MISSING_AT_CHANNEL = "missing_at_channel", _("Recorded here, not in the channel's bill")
        AMOUNT_DIFFERS = "amount_differs", _("Amounts differ")
        DUPLICATE = "duplicate", _("Duplicate")
        REFUND_MISMATCH = "refund_mismatch", _("Refund mismatch")

    run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.PROTECT,
        related_name="differences",
        verbose_name=_("reconciliation"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    out_trade_no = models.CharField(_("order number"), max_length=64, blank=True)
    out_refund_no = models.CharField(_("refund number"), max_length=64, blank=True)
    channel_amount_fen = models.BigIntegerField(_("amount at the channel (fen)"), null=True, blank=True)
    local_amount_fen = models.BigIntegerField(_("amount in our records (fen)"), null=True, blank=True)
    # English, as the service wrote it: which check failed (no personal data).
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
        ordering = ("run", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "missing_locally",
                        "missing_at_channel",
                        "amount_differs",
                        "duplicate",
                        "refund_mismatch",
                    ]
                ),
                name="funds_reconciliationdifference_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.out_trade_no}"


# --- Daily totals: what the public disclosure pages read --------------------------------


class DailyTotal(models.Model):
    """One project's online donations for one day, channel and co-initiator.

    Written in the same transaction as the payment or refund it counts (both
    hold the project's row lock there, so two writers never race for a row);
    public totals are sums over these rows — a few hundred per project — and
    never a scan of the donations. `refunded_fen` is booked on the day the refund
    succeeded, so a past day's income never changes and a refund shows where
    it happened. Donations recorded after their order closed (held for refund)
    are never counted, as they never counted towards the project.

    `partner` is the co-initiator's id, 0 for none: a plain integer so the
    row's identity is a plain unique constraint on both databases.
    """

    project = models.ForeignKey(
        FundraisingProject, on_delete=models.PROTECT, related_name="daily_totals", verbose_name=_("project")
    )
    day = models.DateField(_("day"))
    channel = models.CharField(_("payment channel"), max_length=32)
    partner = models.PositiveBigIntegerField(_("co-initiator id (0 = none)"), default=0)
    received_count = models.PositiveIntegerField(_("donations received"), default=0)
    received_fen = models.BigIntegerField(_("received (fen)"), default=0)
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    # Donations fully refunded on this day (they leave the project's donation count).
    refunded_count = models.PositiveIntegerField(_("donations fully refunded"), default=0)

    class Meta:
        verbose_name = _("daily total")
        verbose_name_plural = _("daily totals")
        ordering = ("project", "day", "channel", "partner")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "channel", "partner"], name="funds_dailytotal_identity"
            ),
            models.CheckConstraint(
                condition=Q(received_fen__gte=0) & Q(refunded_fen__gte=0), name="funds_dailytotal_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day} {self.channel}"
