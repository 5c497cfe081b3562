"""The Art 38 receipt of an in-kind donation (物资捐赠票据).

Goods receipts share the money receipts' gapless series: the same counter row
per issuing branch and year (rendao.funds.receipting.DbCounter) allocates the
serial, so "350203-2026-000124" may be a goods receipt right after a money
receipt 000123, and auditors see one unbroken series. The receipt is issued in
the intake's own transaction (no payment channel to wait for), so a rolled-back
intake rolls its serial back too.

The PDF is rendered on demand by the money receipts' renderer with
PropertyKind.GOODS, from frozen fields: the receipt row, the intake's lots
(whose names, units and quantities never change after intake) and the project.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rendao.funds.donations import issuing_branch
from rendao.funds.receipting import DbCounter
from rendao.funds.receipts.numbering import receipt_number_allocate
from rendao.funds.receipts.pdf import PropertyKind, ReceiptData
from rendao.goods.models import DonorKind, GoodsReceipt, Intake

if TYPE_CHECKING:
    from rendao.core.models import User

# What the receipt says when the goods are not for a fundraising project.
GENERAL_PURPOSE = "非定向物资捐赠 General in-kind donation"
_DESCRIPTION_MAX = 200


def _handled_by(user: User) -> str:
    name = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return (name or user.get_username())[:100]


def goods_receipt_issue(*, intake: Intake, actor: User) -> GoodsReceipt:
    """Number and store the receipt of `intake`, inside the intake's transaction."""
    issuer = issuing_branch(intake.branch)
    code = (issuer.division_code or "")[:6]
    issued_on = timezone.localdate()
    number = receipt_number_allocate(counter=DbCounter(), branch_code=code, year=issued_on.year)
    receipt = GoodsReceipt(
        intake=intake,
        number=str(number),
        branch_code=number.branch_code,
        year=number.year,
        serial=number.serial,
        check_code=secrets.token_hex(4).upper(),
        issued_on=issued_on,
        organisation=issuer.name,
        handled_by=_handled_by(actor),
        value_fen=intake.value_fen,
    )
    receipt.save(force_insert=True)
    return receipt


def verification_url(receipt: GoodsReceipt) -> str:
    # The money receipts' verification page answers for goods receipts too.
    path = reverse("funds:receipt_verify", kwargs={"number": receipt.number, "check": receipt.check_code})
    return f"{settings.SITE_URL}{path}"


def goods_description(intake: Intake) -> str:
    """ "书包（小学）600 个；矿泉水 200 箱", cut to what fits the receipt."""
    parts = []
    for lot in intake.lots.all():
        spec = f"（{lot.specification}）" if lot.specification else ""
        parts.append(f"{lot.item_name}{spec} {lot.quantity_received} {lot.unit}")
    text = "；".join(parts)
    if len(text) > _DESCRIPTION_MAX:
        text = text[: _DESCRIPTION_MAX - 1] + "…"
    return text


def receipt_data(receipt: GoodsReceipt, *, copy: str) -> ReceiptData:
    """What is printed. `copy`: "donor" (the person's name and the commitment salt),
    "record" (the name, no salt) or "public" (the public name only, no salt: the
    verification page's copy, which anyone holding number and check code can fetch)."""
    intake = receipt.intake
    anonymous = intake.donor_kind == DonorKind.ANONYMOUS
    if anonymous:
        name = ""
    elif intake.donor_kind == DonorKind.ORGANISATION:
        name = intake.organisation_name
    elif copy == "public":
        name = intake.public_name
    else:
        name = intake.donor_name
    salt = bytes.fromhex(intake.commitment_salt) if copy == "donor" and intake.commitment_salt else None
    return ReceiptData(
        number=receipt.number,
        issued_on=receipt.issued_on,
        organisation=receipt.organisation,
        project=intake.project.title if intake.project is not None else GENERAL_PURPOSE,
        handled_by=receipt.handled_by,
        amount_fen=receipt.value_fen,
        verification_url=verification_url(receipt),
        property_kind=PropertyKind.GOODS,
        goods_description=goods_description(intake),
        donor_name=name,
        anonymous=anonymous,
        commitment_salt=salt,
    )


def goods_receipt_pdf(receipt: GoodsReceipt, *, copy: str) -> bytes:
    from rendao.funds.receipts.pdf import receipt_pdf

    return receipt_pdf(receipt_data(receipt, copy=copy))
