"""In-kind donations (物资捐赠): from intake into a warehouse to the recipient's sign-off.

A donor's goods arrive as an `Intake` of one or more `Lot`s (one item, one
specification, one expiry). Stock is kept per lot *and* warehouse (`Stock`), so
moving goods between warehouses never changes a lot's totals. For every lot

    quantity_received = quantity_issued + quantity_on_hand + quantity_written_off

holds (a database constraint), `quantity_on_hand` is the sum of its stock rows,
and no stock row is below zero. Every change of stock is one append-only `Move`
row and one transparency-log entry. Quantities are whole units of the lot's unit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.privacy.fields import BlindIndexField, EncryptedTextField


class Warehouse(models.Model):
    """A disaster-relief warehouse (备灾仓库) of a branch."""

    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="warehouses", verbose_name=_("branch")
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DonorKind(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation")
    PERSON = "person", _("Person")
    ANONYMOUS = "anonymous", _("Anonymous")


class Intake(models.Model):
    """Goods received from one donor at one warehouse (入库单)."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="intakes", verbose_name=_("warehouse")
    )
    # Goods given for a fundraising project are used for it (restricted); else general.
    project = models.ForeignKey(
        "funds.FundraisingProject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="goods_intakes",
        verbose_name=_("fundraising project"),
    )
    need = models.ForeignKey(
        "recipients.Need",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intakes",
        verbose_name=_("answers the need"),
    )
    donor_kind = models.CharField(_("donor"), max_length=16, choices=DonorKind.choices)
    # An organisation's name is public; a person's name and mobile are sealed.
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    donor_name = EncryptedTextField(_("donor name"), blank=True)
    donor_mobile = EncryptedTextField(_("donor mobile"), blank=True)
    donor_mobile_index = BlindIndexField(source="donor_mobile", purpose="mobile")
    # The donor account, when a signed-in donor's goods are registered (for "my donations").
    donor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="goods_intakes",
        verbose_name=_("donor account"),
    )
    public_name = models.CharField(_("public name"), max_length=200)
    commitment_salt = EncryptedTextField(_("commitment salt"), blank=True)
    commitment = models.CharField(_("commitment"), max_length=64, blank=True)
    receipt_wanted = models.BooleanField(_("receipt wanted"), default=True)
    photos = models.ManyToManyField(
        "uploads.Attachment", blank=True, related_name="+", verbose_name=_("photos")
    )
    value_fen = models.BigIntegerField(_("estimated value (fen)"), default=0)
    received_on = models.DateField(_("received on"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("received by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ledger_index = models.BigIntegerField(_("log entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("goods intake")
        verbose_name_plural = _("goods intakes")
        ordering = ("-received_on", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(value_fen__gte=0), name="goods_intake_value_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class Lot(models.Model):
    """One item of one intake: name, specification, unit, expiry, and its running totals."""

    intake = models.ForeignKey(
        Intake, on_delete=models.PROTECT, related_name="lots", verbose_name=_("intake")
    )
    number = models.CharField(_("lot number"), max_length=24, unique=True)
    item_name = models.CharField(_("item"), max_length=100)
    specification = models.CharField(_("specification"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    batch = models.CharField(_("manufacturer's batch"), max_length=64, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    unit_value_fen = models.BigIntegerField(_("estimated unit value (fen)"), default=0)
    quantity_received = models.PositiveIntegerField(_("received"))
    quantity_issued = models.PositiveIntegerField(_("issued"), default=0)
    quantity_on_hand = models.PositiveIntegerField(_("in stock"), default=0)
    quantity_written_off = models.PositiveIntegerField(_("written off"), default=0)

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(quantity_received__gt=0), name="goods_lot_received_positive"),
            models.CheckConstraint(
                condition=Q(
                    quantity_received=F("quantity_issued") + F("quantity_on_hand") + F("quantity_written_off")
                ),
                name="goods_lot_identity",
            ),
            models.CheckConstraint(condition=Q(unit_value_fen__gte=0), name="goods_lot_value_not_negative"),
        ]
        indexes = [models.Index(fields=["item_name", "expires_on"], name="goods_lot_item_expiry_idx")]

    def __str__(self) -> str:
        return self.number


class Stock(models.Model):
    """How much of a lot lies in one warehouse."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="stock", verbose_name=_("lot"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="stock", verbose_name=_("warehouse")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=0)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(fields=["lot", "warehouse"], name="goods_stock_unique"),
        ]
        indexes = [models.Index(fields=["warehouse", "lot"], name="goods_stock_wh_lot_idx")]

    def __str__(self) -> str:
        return f"{self.lot_id}@{self.warehouse_id}: {self.quantity}"


class MoveKind(models.TextChoices):
    RECEIVE = "receive", _("Received from a donor")
    TRANSFER = "transfer", _("Moved between warehouses")
    ISSUE = "issue", _("Issued to a recipient")
    WRITE_OFF = "write_off", _("Written off")


class Move(models.Model):
    """One change of stock; append-only (a correction is a new move)."""

    kind = models.CharField(_("kind"), max_length=16, choices=MoveKind.choices)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="moves", verbose_name=_("lot"))
    from_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("from")
    )
    to_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("to")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    # The document that caused it: "intake:<number>", "distribution:<number>", "write_off:<number>"…
    reference = models.CharField(_("reference"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    ledger_index = models.BigIntegerField(_("log entry"))

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_move_quantity_positive"),
            models.CheckConstraint(
                condition=(
                    (Q(kind="receive") & Q(from_warehouse__isnull=True) & Q(to_warehouse__isnull=False))
                    | (Q(kind="transfer") & Q(from_warehouse__isnull=False) & Q(to_warehouse__isnull=False))
                    | (
                        Q(kind__in=["issue", "write_off"])
                        & Q(from_warehouse__isnull=False)
                        & Q(to_warehouse__isnull=True)
                    )
                ),
                name="goods_move_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.lot_id} ×{self.quantity}"


class GoodsReceipt(models.Model):
    """The Art 38 receipt of an intake; numbered in the same gapless series as money receipts."""

    intake = models.OneToOneField(
        Intake, on_delete=models.PROTECT, related_name="receipt", verbose_name=_("intake")
    )
    number = models.CharField(_("receipt number"), max_length=20, unique=True)
    branch_code = models.CharField(_("issuing branch code"), max_length=6)
    year = models.PositiveIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    check_code = models.CharField(_("check code"), max_length=16)
    issued_on = models.DateField(_("issued on"))
    organisation = models.CharField(_("organisation"), max_length=200)
    handled_by = models.CharField(_("handled by"), max_length=100)
    value_fen = models.BigIntegerField(_("estimated value (fen)"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("goods receipt")
        verbose_name_plural = _("goods receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["branch_code", "year", "serial"], name="goods_receipt_unique_serial"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class StockTakeStatus(models.TextChoices):
    OPEN = "open", _("Counting")
    CLOSED = "closed", _("Closed")


class StockTake(models.Model):
    """A count of one warehouse (盘点); differences are recorded, never silently fixed."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="stocktakes", verbose_name=_("warehouse")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=StockTakeStatus.choices, default=StockTakeStatus.OPEN
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by")
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    ledger_index = models.BigIntegerField(_("log entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock-take")
        verbose_name_plural = _("stock-takes")
        ordering = ("-started_at", "-id")
        constraints = [
            # One count at a time per warehouse.
            models.UniqueConstraint(
                fields=["warehouse"], condition=Q(status="open"), name="goods_one_open_stocktake"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id} {self.started_at:%Y-%m-%d}"


class StockTakeLine(models.Model):
    stocktake = models.ForeignKey(
        StockTake, on_delete=models.PROTECT, related_name="lines", verbose_name=_("stock-take")
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    expected = models.PositiveIntegerField(_("expected"))
    counted = models.PositiveIntegerField(_("counted"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # A shortage is followed up by a write-off request (two approvers), linked here.
    write_off = models.ForeignKey(
        "goods.WriteOff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("write-off"),
    )

    class Meta:
        verbose_name = _("stock-take line")
        verbose_name_plural = _("stock-take lines")
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "lot"], name="goods_stocktake_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.stocktake_id}:{self.lot_id}"


class OrderStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested, in approval")
    APPROVED = "approved", _("Approved, to be issued")
    ISSUED = "issued", _("Issued, awaiting the recipient's sign-off")
    SIGNED_OFF = "signed_off", _("Received in full")
    SHORTFALL = "shortfall", _("Received with a shortfall, under investigation")
    CLOSED = "closed", _("Shortfall investigated and closed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the requester")


class DistributionOrder(models.Model):
    """An order to hand goods from a warehouse to a recipient institution (调拨/发放单)."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="orders", verbose_name=_("warehouse")
    )
    recipient = models.ForeignKey(
        "recipients.Institution",
        on_delete=models.PROTECT,
        related_name="distribution_orders",
        verbose_name=_("recipient"),
    )
    project = models.ForeignKey(
        "funds.FundraisingProject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="distribution_orders",
        verbose_name=_("fundraising project"),
    )
    need = models.ForeignKey(
        "recipients.Need",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="distribution_orders",
        verbose_name=_("answers the need"),
    )
    purpose = models.CharField(_("purpose"), max_length=300)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.REQUESTED
    )
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
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    value_fen = models.BigIntegerField(_("estimated value (fen)"), default=0)

    class Meta:
        verbose_name = _("distribution order")
        verbose_name_plural = _("distribution orders")
        ordering = ("-requested_at", "-id")
        indexes = [models.Index(fields=["project", "status"], name="goods_order_project_status_idx")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """What an order asks for: an item and a quantity (lots are chosen at issue)."""

    order = models.ForeignKey(
        DistributionOrder, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order")
    )
    item_name = models.CharField(_("item"), max_length=100)
    specification = models.CharField(_("specification"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ("id",)
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_orderline_positive")]

    def __str__(self) -> str:
        return f"{self.item_name} ×{self.quantity}"


class Pick(models.Model):
    """What was issued against an order line from one lot (earliest expiry first by default)."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="picks", verbose_name=_("line")
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="picks", verbose_name=_("lot"))
    quantity = models.PositiveIntegerField(_("quantity"))
    # Filled at sign-off: what the recipient counted on arrival.
    quantity_received = models.PositiveIntegerField(_("received"), null=True, blank=True)
    move = models.OneToOneField(Move, on_delete=models.PROTECT, related_name="+", verbose_name=_("move"))

    class Meta:
        verbose_name = _("pick")
        verbose_name_plural = _("picks")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_pick_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__isnull=True) | Q(quantity_received__lte=F("quantity")),
                name="goods_pick_received_within_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.lot_id} ×{self.quantity}"


class OrderSignoff(models.Model):
    """The recipient's sign-off of an order, with the quantities that arrived."""

    order = models.OneToOneField(
        DistributionOrder, on_delete=models.PROTECT, related_name="signoff", verbose_name=_("order")
    )
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
    shortfall = models.BooleanField(_("shortfall"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Filled when the shortfall's investigation is closed.
    investigation_findings = models.TextField(_("investigation findings"), blank=True)
    investigated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("investigated by"),
    )
    investigated_at = models.DateTimeField(_("investigated at"), null=True, blank=True)
    ledger_index = models.BigIntegerField(_("log entry"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("recipient sign-off")
        verbose_name_plural = _("recipient sign-offs")
        constraints = [
            models.CheckConstraint(
                condition=Q(by_staff_upload=False) | Q(form__isnull=False),
                name="goods_signoff_upload_has_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} signed"


class WriteOffReason(models.TextChoices):
    EXPIRED = "expired", _("Expired")
    DAMAGED = "damaged", _("Damaged")
    LOST = "lost", _("Lost")


class WriteOffStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested, in approval")
    DONE = "done", _("Written off")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the requester")


class WriteOff(models.Model):
    """Writing off part of a lot in one warehouse: always two distinct approvers."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="write_offs", verbose_name=_("lot"))
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=16, choices=WriteOffReason.choices)
    explanation = models.CharField(_("explanation"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=WriteOffStatus.choices, default=WriteOffStatus.REQUESTED
    )
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
    move = models.OneToOneField(
        Move, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("move")
    )

    class Meta:
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        ordering = ("-requested_at", "-id")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_writeoff_positive")]

    def __str__(self) -> str:
        return self.number
