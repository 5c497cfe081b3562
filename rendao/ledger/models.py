"""The transparency log's storage: entries, stored tree hashes, signed checkpoints.

Everything but the head is append-only at the database (migration 0002): a
correction is a new compensating entry, never an edit.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    DONATION_RECEIVED = "donation_received", _("Donation received")
    REFUND = "refund", _("Refund")
    ALLOCATION = "allocation", _("Allocation")
    DISBURSEMENT = "disbursement", _("Disbursement")
    PAYOUT_CONFIRMED = "payout_confirmed", _("Bank payout confirmed")
    GOODS_RECEIVED = "goods_received", _("Goods received")
    GOODS_ISSUED = "goods_issued", _("Goods issued")
    GOODS_MOVED = "goods_moved", _("Goods moved between warehouses")
    STOCKTAKE = "stocktake", _("Stock-take result")
    RECIPIENT_SIGNOFF = "recipient_signoff", _("Recipient sign-off")
    WRITE_OFF = "write_off", _("Write-off")
    RECONCILIATION = "reconciliation", _("Reconciliation result")
    DISCLOSURE_PUBLISHED = "disclosure_published", _("Disclosure published")


class LedgerHead(models.Model):
    """The one row (pk=1) whose lock serialises appends: `size` entries are committed.

    Indexes come from here rather than a sequence, which would skip a number
    whenever a transaction rolls back and leave a gap in the log.
    """

    size = models.BigIntegerField(default=0)
    # The tree's right edge: the hashes of the complete subtrees that make up the
    # first `size` leaves (one per set bit of size, highest level first), 32
    # bytes each. An append combines the new leaf with the last of them instead
    # of reading stored children back. Derived data: a wrong edge produces wrong
    # stored hashes, which verification against the entries detects.
    frontier = models.BinaryField(default=b"")

    def __str__(self) -> str:
        return f"ledger head {self.size}"


class Entry(models.Model):
    index = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=32, choices=EntryKind.choices)
    # The canonical JSON bytes: exactly what the leaf hash covers and the tiles serve.
    data = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"


class NodeHash(models.Model):
    """The hash of the complete subtree (level, index), stored once it is complete.

    Level 0 holds the leaf hashes. Tiles are served from levels 0, 8, 16…, and
    any proof reads O(log n) of these rows in one query.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_nodehash_unique")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Checkpoint(models.Model):
    size = models.BigIntegerField()
    root = models.BinaryField(max_length=32)
    # The signed note exactly as signed (C2SP tlog-checkpoint + signed-note).
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["size"], name="ledger_checkpoint_size")]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Cosignature(models.Model):
    """A witness's cosignature line on one of our checkpoints (C2SP tlog-witness)."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=200)
    # The whole signature line, "— <name> <base64>\n", appended to the served note.
    line = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="ledger_cosignature_once")
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint_id}"
