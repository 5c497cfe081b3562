"""Issuing, rendering and voiding donation receipts (Charity Law Art 38).

A receipt is issued after the payment commits (a queued task, with the sweeper
as safety net), never inside the payment's transaction: the payment path stays
short, and a receipt problem can never lose a payment. Numbers are gapless per
issuing branch and year because the counter row is locked, incremented and
written in the same transaction as the receipt row (numbering.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rendao.core.audit import audit_record
from rendao.funds.donations import issuing_branch
from rendao.funds.models import Donation, Receipt, ReceiptCounterRow
from rendao.funds.payments import CHANNEL_LABELS
from rendao.funds.receipts.fiscal import IssuedReceipt, IssuedStatus, LocalPdfIssuer, ReceiptIssuer
from rendao.funds.receipts.numbering import receipt_number_allocate
from rendao.funds.receipts.pdf import ReceiptData

if TYPE_CHECKING:
    from rendao.core.models import User


class DbCounter:
    """numbering.ReceiptCounter on the ReceiptCounterRow table (row-locked)."""

    def lock_last(self, *, branch_code: str, year: int) -> int:
        ReceiptCounterRow.objects.get_or_create(branch_code=branch_code, year=year)
        row = ReceiptCounterRow.objects.select_for_update().get(branch_code=branch_code, year=year)
        return row.last_serial

    def store_last(self, *, branch_code: str, year: int, serial: int) -> None:
        ReceiptCounterRow.objects.filter(branch_code=branch_code, year=year).update(last_serial=serial)


def receipt_issuer() -> ReceiptIssuer:
    # The provincial fiscal e-receipt adapter, once contracted, is chosen here.
    return LocalPdfIssuer()


def verification_url(receipt: Receipt) -> str:
    path = reverse("funds:receipt_verify", kwargs={"number": receipt.number, "check": receipt.check_code})
    return f"{settings.SITE_URL}{path}"


def receipt_issue(donation_id: int) -> Receipt | None:
    """Issue the receipt of a paid donation that wants one; idempotent (None if none is due)."""
    with transaction.atomic():
        donation = (
            Donation.objects.select_for_update()
            .select_related("project", "branch")
            .filter(pk=donation_id)
            .first()
        )
        if donation is None or not donation.receipt_wanted or donation.refund_flagged:
            return None
        if donation.status != Donation.Status.PAID or donation.paid_at is None:
            # Refunded before the receipt went out, or not paid (yet): nothing to issue.
            return None
        existing = Receipt.objects.filter(donation=donation).first()
        if existing is not None:
            return existing
        issuer_branch = issuing_branch(donation.branch)
        code = (issuer_branch.division_code or "")[:6]
        issued_on = timezone.localdate()
        number = receipt_number_allocate(counter=DbCounter(), branch_code=code, year=issued_on.year)
        receipt = Receipt(
            donation=donation,
            number=str(number),
            branch_code=number.branch_code,
            year=number.year,
            serial=number.serial,
            check_code=secrets.token_hex(4).upper(),
            issued_on=issued_on,
            organisation=issuer_branch.name,
            handled_by=str(CHANNEL_LABELS.get(donation.channel, donation.channel)),
            amount_fen=donation.amount_fen,
        )
        issued = receipt_issuer().issue(receipt_data(receipt, donor_copy=False))
        receipt.issuer = issued.issuer
        receipt.external_id = issued.external_id
        receipt.status = (
            Receipt.Status.PENDING if issued.status == IssuedStatus.PENDING else Receipt.Status.ISSUED
        )
        receipt.save(force_insert=True)
        audit_record(
            actor=None,
            action="funds.receipt_issue",
            obj=receipt,
            branch=donation.branch,
            after={
                "number": receipt.number,
                "donation": donation.out_trade_no,
                "amount_fen": receipt.amount_fen,
            },
        )
    return receipt


def receipt_data(receipt: Receipt, *, donor_copy: bool) -> ReceiptData:
    """What is printed: the donor's copy carries the commitment salt, others do not."""
    donation = receipt.donation
    salt = bytes.fromhex(donation.commitment_salt) if donor_copy and donation.commitment_salt else None
    return ReceiptData(
        number=receipt.number,
        issued_on=receipt.issued_on,
        organisation=receipt.organisation,
        project=donation.project.title,
        handled_by=receipt.handled_by,
        amount_fen=receipt.amount_fen,
        verification_url=verification_url(receipt),
        donor_name="" if donation.anonymous else donation.donor_name,
        anonymous=donation.anonymous or not donation.donor_name,
        commitment_salt=salt,
    )


def receipt_pdf_bytes(receipt: Receipt, *, donor_copy: bool) -> bytes:
    """The PDF, rendered again from the frozen fields (identical every time)."""
    from rendao.funds.receipts.pdf import receipt_pdf

    return receipt_pdf(receipt_data(receipt, donor_copy=donor_copy))


def receipt_void(receipt: Receipt, *, reason: str, actor: User | None) -> Receipt:
    """Void a receipt (after a full refund): recorded, audited, shown on the verification page."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("receipt_void runs inside the refund's transaction")
    locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if locked.status == Receipt.Status.VOIDED:
        return locked
    issued = IssuedReceipt(
        issuer=locked.issuer,
        number=locked.number,
        status=IssuedStatus.ISSUED,
        pdf=b"",
        verification_url=verification_url(locked),
        external_id=locked.external_id,
    )
    receipt_issuer().void(issued, reason=reason)
    locked.status = Receipt.Status.VOIDED
    locked.void_reason = reason[:200]
    locked.voided_at = timezone.now()
    locked.save(update_fields=["status", "void_reason", "voided_at"])
    audit_record(
        actor=actor,
        action="funds.receipt_void",
        obj=locked,
        branch=locked.donation.branch,
        after={"number": locked.number, "reason": reason[:200]},
    )
    return locked


@dataclass
class ReceiptSweep:
    issued: int = 0


def receipts_sweep(*, batch: int = 500) -> ReceiptSweep:
    """Issue receipts a lost task left behind: paid, wanted, not flagged, none yet."""
    result = ReceiptSweep()
    due = (
        Donation.objects.filter(
            status=Donation.Status.PAID, receipt_wanted=True, refund_flagged=False, receipt__isnull=True
        )
        .order_by("paid_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in list(due):
        if receipt_issue(pk) is not None:
            result.issued += 1
    return result
