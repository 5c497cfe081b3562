"""Receipt numbers: gapless per calendar year per issuing branch, e.g. ``350203-2026-000123``.

``<branch code>-<year>-<serial>``: the issuing branch's 6-digit administrative division
code (350203 = 思明区), the year the receipt was issued, and a 6-digit serial that starts
at 000001 every year for every branch.

Gapless means no serial is skipped or used twice, which auditors check. That holds only
if the counter is read, incremented and written under a row lock in the SAME transaction
as the receipt row: a rolled-back receipt then rolls its serial back too, and two
concurrent receipts of one branch queue on the lock instead of reading the same value.
The counter model (one row per branch and year) is not built yet; it implements
``ReceiptCounter`` and ``receipt_number_allocate`` holds the rule itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SERIAL_MAX = 999_999
# re.ASCII: \d would otherwise accept full-width and other Unicode digits.
_NUMBER_RE = re.compile(r"(?P<branch>\d{6})-(?P<year>\d{4})-(?P<serial>\d{6})", re.ASCII)
_BRANCH_RE = re.compile(r"\d{6}", re.ASCII)


class ReceiptCounter(Protocol):
    """A per-(branch, year) counter whose row the caller holds locked until commit.

    ``lock_last`` locks the counter row for ``(branch_code, year)`` (``SELECT … FOR
    UPDATE``; on SQLite the transaction is begun as a writer) and returns the last serial
    issued, 0 if none yet. ``store_last`` writes the new last serial to the locked row.
    Both must run inside the ``transaction.atomic()`` that also inserts the receipt.
    """

    def lock_last(self, *, branch_code: str, year: int) -> int: ...

    def store_last(self, *, branch_code: str, year: int, serial: int) -> None: ...


@dataclass(frozen=True, slots=True)
class ReceiptNumber:
    branch_code: str
    year: int
    serial: int

    def __str__(self) -> str:
        return f"{self.branch_code}-{self.year:04d}-{self.serial:06d}"


def _check_branch_code(branch_code: str) -> None:
    if not _BRANCH_RE.fullmatch(branch_code):
        raise ValidationError(
            _("The issuing branch code must be a 6-digit administrative division code."),
            code="bad_branch_code",
        )


def _check_year(year: int) -> None:
    if not 2000 <= year <= 9999:
        raise ValidationError(_("The receipt year is out of range."), code="bad_year")


def receipt_number_allocate(*, counter: ReceiptCounter, branch_code: str, year: int) -> ReceiptNumber:
    """Allocate the next receipt number of ``branch_code`` in ``year`` through a locked counter."""
    _check_branch_code(branch_code)
    _check_year(year)
    last = counter.lock_last(branch_code=branch_code, year=year)
    if last < 0:
        # A negative counter means the row was corrupted; issuing from it would reuse serials.
        raise ValueError(f"receipt counter for {branch_code}/{year} is negative: {last}")
    serial = last + 1
    if serial > SERIAL_MAX:
        raise ValidationError(
            _("This branch has used up its receipt numbers for the year."), code="serials_exhausted"
        )
    counter.store_last(branch_code=branch_code, year=year, serial=serial)
    return ReceiptNumber(branch_code=branch_code, year=year, serial=serial)


def receipt_number_parse(text: str) -> ReceiptNumber:
    """Parse ``350203-2026-000123`` (surrounding spaces allowed); anything else → ValidationError."""
    match = _NUMBER_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(_("Enter a receipt number like 350203-2026-000123."), code="bad_receipt_number")
    number = ReceiptNumber(branch_code=match["branch"], year=int(match["year"]), serial=int(match["serial"]))
    _check_year(number.year)
    if number.serial == 0:
        raise ValidationError(_("Enter a receipt number like 350203-2026-000123."), code="bad_receipt_number")
    return number
