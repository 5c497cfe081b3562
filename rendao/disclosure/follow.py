"""Follow a donation by the receipt number and verification code printed on its receipt.

No account is needed: the code on the receipt is the capability. Guessing is
throttled across processes by counting failed look-ups in the database
(`FollowAttempt`), per caller and per receipt number, for an hour. Only keyed
digests (HMAC with SECRET_KEY) are stored, never an IP, a number or a code.

What a caller learns is the same whether the number is unknown or the code is
wrong; whether a receipt was voided is said only once its code matched. While a
caller or a number is throttled even the right code is refused, otherwise the
throttle would still answer "right" or "wrong" and guessing could go on.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta
from rendao.disclosure.models import FollowAttempt
from rendao.funds.models import Receipt
from rendao.funds.receipts.numbering import receipt_number_parse

logger = logging.getLogger("rendao.disclosure.follow")

# Purpose strings of the keyed digests: useless for any other purpose, and not
# recomputable without SECRET_KEY.
_IP_PURPOSE = "rendao.disclosure.follow.ip"
_NUMBER_PURPOSE = "rendao.disclosure.follow.receipt_number"

FAILURE_WINDOW = timedelta(hours=1)
# How long attempts are kept (follow_attempts_purge): the window plus a margin
# for looking into an incident.
ATTEMPTS_KEPT = timedelta(days=1)
# Check codes are 8 hexadecimal digits (rendao.funds.receipting); the column allows 16.
_CODE_RE = re.compile(r"[0-9A-F]{4,16}", re.ASCII)


class FollowKind(StrEnum):
    DONATION = "donation"  # the donation's own follow page
    VOIDED = "voided"  # the receipt was voided after a refund; the follow page still exists
    GOODS = "goods"  # a goods receipt: its verification page is what there is to follow


@dataclass(frozen=True)
class FollowResult:
    kind: FollowKind
    follow_url: str
    receipt_number: str


class FollowRefused(ValidationError):
    """No receipt has this number and code (one message for unknown and wrong)."""


class FollowThrottled(ValidationError):
    """Too many failed look-ups from this caller or for this number."""


def _digest(purpose: str, value: str) -> str:
    return salted_hmac(purpose, value, algorithm="sha256").hexdigest()


def _refused() -> FollowRefused:
    return FollowRefused(
        _("No receipt has this number and verification code. Check both against your receipt."),
        code="no_match",
    )


def _throttled() -> FollowThrottled:
    return FollowThrottled(
        _("Too many attempts that did not match a receipt. Please wait an hour and try again."),
        code="throttled",
    )


def follow_input_clean(*, number: str, code: str) -> tuple[str, str]:
    """Normalise what was typed: (receipt number, upper-case code), or ValidationError.

    Malformed input is refused here, before the database is asked or an attempt
    counted, so a typo costs the donor none of their tries.
    """
    errors: dict[str, str] = {}
    parsed_number = ""
    try:
        parsed_number = str(receipt_number_parse(number if isinstance(number, str) else ""))
    except ValidationError as exc:
        errors["number"] = exc.messages[0]
    clean_code = "".join((code if isinstance(code, str) else "").split()).upper()
    if not _CODE_RE.fullmatch(clean_code):
        errors["code"] = _("Enter the verification code printed on the receipt (letters A–F and digits).")
    if errors:
        raise ValidationError(errors)
    return parsed_number, clean_code


def _codes_match(stored: str, typed: str) -> bool:
    return hmac.compare_digest(stored.upper().encode("ascii", "replace"), typed.encode("ascii"))


def _match(number: str, code: str) -> FollowResult | None:
    from rendao.goods.models import GoodsReceipt

    # Goods receipts share the numbering (rendao.goods.receipts). Both tables are
    # always asked, so an unknown number takes no longer than a known one.
    receipt = Receipt.objects.select_related("donation").filter(number=number).first()
    goods = GoodsReceipt.objects.filter(number=number).first()
    if receipt is not None:
        if not _codes_match(receipt.check_code, code):
            return None
        url = reverse("funds:donation_follow", kwargs={"token": receipt.donation.follow_token})
        kind = FollowKind.VOIDED if receipt.status == Receipt.Status.VOIDED else FollowKind.DONATION
        return FollowResult(kind=kind, follow_url=url, receipt_number=number)
    if goods is None or not _codes_match(goods.check_code, code):
        return None
    url = reverse("funds:receipt_verify", kwargs={"number": goods.number, "check": goods.check_code})
    return FollowResult(kind=FollowKind.GOODS, follow_url=url, receipt_number=number)


def donation_follow_by_receipt(*, number: str, code: str, meta: RequestMeta) -> FollowResult:
    """Where to follow the donation (or goods) of this receipt; raises on anything else.

    ValidationError (with field errors) for malformed input, FollowThrottled when
    the caller or the number has used up its failures, FollowRefused when nothing
    matches. The attempt is recorded before counting, so concurrent guesses in
    other processes each see the others and none slips past the limit.
    """
    clean_number, clean_code = follow_input_clean(number=number, code=code)
    ip_digest = _digest(_IP_PURPOSE, meta.ip or "")
    number_digest = _digest(_NUMBER_PURPOSE, clean_number)
    now = timezone.now()
    attempt = FollowAttempt.objects.create(ip_digest=ip_digest, number_digest=number_digest, at=now)
    failures = FollowAttempt.objects.filter(succeeded=False, at__gt=now - FAILURE_WINDOW)
    if (
        failures.filter(ip_digest=ip_digest).count() > settings.FOLLOW_FAILURES_PER_IP
        or failures.filter(number_digest=number_digest).count() > settings.FOLLOW_FAILURES_PER_RECEIPT
    ):
        # A refused look-up is not a guess: forgetting it keeps the hour from
        # sliding forever for someone who keeps trying.
        attempt.delete()
        # Neither the code nor the caller's address is logged (PIPL; the code is a secret).
        logger.warning("follow by receipt throttled")
        raise _throttled()
    result = _match(clean_number, clean_code)
    if result is None:
        raise _refused()
    FollowAttempt.objects.filter(pk=attempt.pk).update(succeeded=True)
    return result


def follow_attempts_purge() -> int:
    """Delete attempts too old to count towards any limit; safe to run twice at once."""
    deleted, _counts = FollowAttempt.objects.filter(at__lt=timezone.now() - ATTEMPTS_KEPT).delete()
    return deleted
