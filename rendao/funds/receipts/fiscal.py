"""The receipt issuer interface: the provincial fiscal e-receipt platform or the local PDF.

A fiscal e-receipt (财政电子票据, issued through the provincial fiscal platform — Fujian for
Xiamen) has the force of a paper 公益事业捐赠票据. The platform's API is obtained under an
agreement with the provincial finance department, so there is no implementation of it
here; an adapter for it implements ``ReceiptIssuer``. ``LocalPdfIssuer`` is the default:
rendao numbers and renders the receipt itself. See README.md for how each call maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from rendao.funds.receipts.pdf import ReceiptData, receipt_pdf, receipt_validate


class IssuedStatus(StrEnum):
    """Where a receipt stands at its issuer."""

    ISSUED = "issued"  # valid
    VOIDED = "voided"  # cancelled (红冲/作废), e.g. after a full refund
    PENDING = "pending"  # accepted by a remote platform, not yet confirmed
    UNKNOWN = "unknown"  # the issuer has no such receipt


@dataclass(frozen=True, slots=True)
class IssuedReceipt:
    """What an issuer returns: store all of it on the donation's receipt row."""

    issuer: str  # "local" or the adapter's name, e.g. "fujian_fiscal"
    number: str  # the number printed on the receipt
    status: IssuedStatus
    # The platform's own file for a fiscal receipt; empty from the local issuer,
    # whose PDF is rendered on demand (LocalPdfIssuer.render).
    pdf: bytes
    verification_url: str  # where anyone can check it: ours, or the platform's 查验 page
    external_id: str = ""  # the platform's id (票据代码 + 号码), empty for local receipts


class ReceiptIssuer(Protocol):
    """Issue, void and query receipts. Implementations must be idempotent by ``data.number``."""

    name: str

    def issue(self, data: ReceiptData) -> IssuedReceipt:
        """Issue the receipt for ``data`` (already numbered by numbering.py); ValidationError if invalid."""
        ...

    def void(self, receipt: IssuedReceipt, *, reason: str) -> IssuedReceipt:
        """Cancel an issued receipt; returns it with status VOIDED (or PENDING at a remote platform)."""
        ...

    def query(self, receipt: IssuedReceipt) -> IssuedStatus:
        """Ask the issuer where the receipt stands (for the periodic sweeper of PENDING receipts)."""
        ...


class LocalPdfIssuer:
    """The built-in issuer: our own number and PDF. Our database is its system of record."""

    name = "local"

    def issue(self, data: ReceiptData) -> IssuedReceipt:
        # Checked, not rendered: the caller keeps the printed fields, and the PDF
        # is drawn again from them whenever someone asks for it (identical each
        # time). Rendering here cost ~25 ms per donation for a file nobody kept.
        receipt_validate(data)
        return IssuedReceipt(
            issuer=self.name,
            number=data.number,
            status=IssuedStatus.ISSUED,
            pdf=b"",
            verification_url=data.verification_url,
        )

    def render(self, data: ReceiptData) -> bytes:
        """The receipt as a PDF (for the local issuer, the document itself)."""
        return receipt_pdf(data)

    def void(self, receipt: IssuedReceipt, *, reason: str) -> IssuedReceipt:
        # Nothing to tell anyone outside: the caller records the void (with the reason and
        # an audit row) on the receipt row, and the verification page then shows it voided.
        return IssuedReceipt(
            issuer=receipt.issuer,
            number=receipt.number,
            status=IssuedStatus.VOIDED,
            pdf=receipt.pdf,
            verification_url=receipt.verification_url,
            external_id=receipt.external_id,
        )

    def query(self, receipt: IssuedReceipt) -> IssuedStatus:
        # A local receipt is never pending: the stored status is the truth.
        return receipt.status
