"""Refunds of online donations: exactly once, never more than was paid, within the channel's time.

A refund is idempotent by its refund number (`out_refund_no`, WeChat Pay's
out_refund_no, Alipay's out_request_no), which the caller chooses: the staff
page generates one when it renders the form, so a double submit is one refund.

Flow of `refund_request`:

1. one transaction: lock the donation row, check everything, insert the Refund
   (requested) and its audit row. The unique refund number and the row lock make
   ten identical concurrent requests one row: the first inserts, the others wait
   on the lock and then find it;
2. outside any transaction: ask the channel (which treats the same refund number
   again as the same refund, so asking twice is safe);
3. on success, a second transaction (`_refund_complete`) records the money: the
   reversing journal entry, the transparency-log leaf, the donation's refunded
   total and status, the project's progress counters, the receipt voided on a
   full refund. A channel still processing leaves the refund `processing`; a
   channel that cannot be reached leaves it `requested`; `refunds_sweep` asks
   again for both. A channel that refuses marks it `failed`: no money moved.

Accounts (the mirror of the donation's entry, see donations.py): debit the
account the donation credited (the project's fund, or refunds payable for late
money), credit the channel's clearing account of the branch.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.funds.accounting import journal_post
from rendao.funds.daily import daily_refunded
from rendao.funds.donations import (
    TRANSITIONS,
    clearing_code,
    donation_accounts_open,
    fund_code,
    refunds_payable_code,
)
from rendao.funds.models import (
    Account,
    Donation,
    DonationStatus,
    FundraisingProject,
    Receipt,
    Refund,
    RefundStatus,
)
from rendao.funds.payments import (
    PaymentChannel,
    PaymentError,
    PermanentChannelError,
    RefundResult,
    RefundState,
    channel_get,
)
from rendao.ledger.services import ledger_append

if TYPE_CHECKING:
    from rendao.core.models import User

logger = logging.getLogger("rendao.funds.payments")

D = DonationStatus
RS = RefundStatus
# Refunds that hold (or will hold) money: counted against what is left to refund.
OPEN_OR_DONE = (RS.REQUESTED, RS.PROCESSING, RS.SUCCEEDED)
OPEN = (RS.REQUESTED, RS.PROCESSING)
REFUNDABLE = (D.PAID, D.PARTLY_REFUNDED)
# WeChat Pay's rule for out_refund_no (Alipay's out_request_no accepts a superset):
# 1–64 characters of digits, letters, _ - | * @.
OUT_REFUND_NO_RE = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
REASON_MAX = 200
# The sweeper leaves a refund alone this long after it was asked for: the
# request that created it is probably still talking to the channel.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 200


def new_out_refund_no(now: datetime | None = None) -> str:
    """`RF` + local date + 16 random hex digits: unique, within WeChat's rule (see above)."""
    return f"RF{timezone.localtime(now or timezone.now()):%Y%m%d}{secrets.token_hex(8).upper()}"


def late_refund_no(donation: Donation) -> str:
    """The refund number of late money: one per donation, so running twice refunds once."""
    return f"LATE-{donation.out_trade_no}"[:64]


# --- asking for a refund -----------------------------------------------------------------


def refund_request(
    *,
    donation: Donation,
    amount_fen: int,
    out_refund_no: str,
    reason: str,
    actor: User | None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Refund:
    """Refund `amount_fen` of a paid donation, idempotently by `out_refund_no`.

    `actor` None is the system (demo data, late money); a user needs
    FINANCE_MANAGE at the donation's branch (PermissionDenied otherwise). Bad
    input raises ValidationError and changes nothing. The same number for the
    same donation and amount answers the existing refund, whatever its state;
    the same number for anything else is refused.
    """
    refund, _created = refund_request_outcome(
        donation=donation,
        amount_fen=amount_fen,
        out_refund_no=out_refund_no,
        reason=reason,
        actor=actor,
        meta=meta,
        now=now,
    )
    return refund


def refund_request_outcome(
    *,
    donation: Donation,
    amount_fen: int,
    out_refund_no: str,
    reason: str,
    actor: User | None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> tuple[Refund, bool]:
    """`refund_request`, also saying whether this call created the refund (for the API's 201/200)."""
    now = now or timezone.now()
    if actor is not None:
        require_perm(actor, Perm.FINANCE_MANAGE, donation.branch)
    reason = (reason or "").strip()
    _check_input(amount_fen=amount_fen, out_refund_no=out_refund_no, reason=reason)
    existing = Refund.objects.filter(out_refund_no=out_refund_no).first()
    if existing is not None:
        return _replayed(existing, donation, amount_fen), False
    try:
        with transaction.atomic():
            refund, created = _create_locked(
                donation=donation,
                amount_fen=amount_fen,
                out_refund_no=out_refund_no,
                reason=reason,
                actor=actor,
                meta=meta,
                now=now,
            )
    except IntegrityError:
        # The unique refund number: another request inserted it between our
        # look and our insert (the row lock makes this rare); answer with it.
        winner = Refund.objects.filter(out_refund_no=out_refund_no).first()
        if winner is None:
            raise
        return _replayed(winner, donation, amount_fen), False
    if not created:
        return refund, False
    _ask_channel(refund, actor=actor, meta=meta)
    refund.refresh_from_db()
    return refund, True


def _check_input(*, amount_fen: object, out_refund_no: object, reason: str) -> None:
    errors: dict[str, str] = {}
    if type(amount_fen) is not int:
        errors["amount_fen"] = _("The amount must be a whole number of fen.")
    elif amount_fen <= 0:
        errors["amount_fen"] = _("The amount must be more than zero.")
    if not isinstance(out_refund_no, str) or not OUT_REFUND_NO_RE.fullmatch(out_refund_no):
        errors["out_refund_no"] = _(
            "The refund number must be 1 to 64 characters: digits, letters and _ - | * @."
        )
    if not reason:
        errors["reason"] = _("Say why the money is refunded.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("The reason can have at most %(n)d characters.") % {"n": REASON_MAX}
    if errors:
        raise ValidationError(errors)


def _replayed(existing: Refund, donation: Donation, amount_fen: int) -> Refund:
    if existing.donation_id != donation.pk or existing.amount_fen != amount_fen:
        raise ValidationError(
            {"out_refund_no": _("This refund number was already used for another refund; use a new number.")},
            code="refund_number_conflict",
        )
    return existing


def _debit_code(donation: Donation) -> str:
    """The account the donation credited, which its refund debits."""
    if donation.refund_flagged:
        return refunds_payable_code(donation.branch_id)
    return fund_code(donation.project)


def _create_locked(
    *,
    donation: Donation,
    amount_fen: int,
    out_refund_no: str,
    reason: str,
    actor: User | None,
    meta: RequestMeta | None,
    now: datetime,
) -> tuple[Refund, bool]:
    # The donation row lock serialises every refund of one donation (and its
    # payment): the check of what is left to refund below cannot be raced.
    # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    locked = (
        Donation.objects.select_for_update(of=("self",))
        .select_related("project", "branch")
        .get(pk=donation.pk)
    )
    # Checked again under the lock: the request that held it may have inserted it.
    existing = Refund.objects.filter(out_refund_no=out_refund_no).first()
    if existing is not None:
        return _replayed(existing, locked, amount_fen), False
    _check_refundable(locked, amount_fen, now)
    refund = Refund(
        donation=locked,
        out_refund_no=out_refund_no,
        amount_fen=amount_fen,
        reason=reason,
        requested_by=actor,
        created_at=now,
    )
    refund.save(force_insert=True)
    audit_record(
        actor=actor,
        action="funds.refund_request",
        obj=refund,
        branch=locked.branch,
        after={"refund": out_refund_no, "donation": locked.out_trade_no, "amount_fen": amount_fen},
        meta=meta,
    )
    return refund, True


def _check_refundable(donation: Donation, amount_fen: int, now: datetime) -> None:
    if donation.status not in REFUNDABLE or donation.paid_at is None:
        raise ValidationError(_("Only a paid donation can be refunded."), code="not_paid")
    held = (
        Refund.objects.filter(donation=donation, status__in=OPEN_OR_DONE).aggregate(s=Sum("amount_fen"))["s"]
        or 0
    )
    left = donation.amount_fen - held
    if amount_fen > left:
        raise ValidationError(
            {
                "amount_fen": _(
                    "At most %(left)s yuan of this donation can still be refunded "
                    "(refunds asked for or made count)."
                )
                % {"left": _yuan(left)}
            },
            code="over_refund",
        )
    try:
        channel = channel_get(donation.channel)
    except KeyError:
        raise ValidationError(
            _("The payment channel of this donation is not enabled; it cannot refund now."), code="channel"
        ) from None
    deadline = donation.paid_at + timedelta(days=channel.REFUND_WINDOW_DAYS)
    if now > deadline:
        raise ValidationError(
            _(
                "The payment channel accepts refunds only within %(days)d days of payment; "
                "this donation was paid on %(date)s."
            )
            % {"days": channel.REFUND_WINDOW_DAYS, "date": timezone.localdate(donation.paid_at).isoformat()},
            code="window",
        )
    account = Account.objects.filter(code=_debit_code(donation)).first()
    if account is not None and account.kind == Account.Kind.RESTRICTED_FUND:
        # Money already spent from a restricted fund cannot be given back through
        # the channel: refuse before asking it, counting refunds still on their way.
        pending = (
            Refund.objects.filter(
                donation__project=donation.project_id, donation__refund_flagged=False, status__in=OPEN
            ).aggregate(s=Sum("amount_fen"))["s"]
            or 0
        )
        # Money reserved for disbursements is promised to a payee: not refundable.
        if account.balance_fen - account.reserved_fen - pending < amount_fen:
            raise ValidationError(_fund_short_message(), code="fund_short")


def _fund_short_message() -> str:
    return _(
        "The project's fund no longer holds enough to refund this amount: "
        "part of it has already been allocated or spent."
    )


def _yuan(fen: int) -> str:
    yuan, cents = divmod(fen, 100)
    return f"{yuan:,}.{cents:02d}"


# --- the channel, and recording its answer --------------------------------------------------


def _ask_channel(refund: Refund, *, actor: User | None, meta: RequestMeta | None) -> None:
    """Ask the channel for the refund (no transaction open) and record its answer."""
    donation = refund.donation
    try:
        channel: PaymentChannel = channel_get(donation.channel)
        result = channel.refund(
            out_trade_no=donation.out_trade_no,
            out_refund_no=refund.out_refund_no,
            amount_fen=refund.amount_fen,
            total_fen=donation.amount_fen,
        )
    except PermanentChannelError as exc:
        _refund_fail(refund.pk, reason=str(exc), actor=actor, meta=meta)
        return
    except (KeyError, PaymentError) as exc:
        # Network trouble, "system busy", the channel switched off: the refund
        # stays requested and the sweeper asks again with the same number.
        logger.info(
            "refund %s not answered by %s: %s", refund.out_refund_no, donation.channel, type(exc).__name__
        )
        return
    if result.state == RefundState.SUCCESS:
        _refund_complete(refund.pk, result=result, actor=actor, meta=meta)
    else:
        Refund.objects.filter(pk=refund.pk, status=RS.REQUESTED).update(
            status=RS.PROCESSING, channel_refund_id=result.channel_refund_id[:64]
        )


def _refund_fail(refund_pk: int, *, reason: str, actor: User | None, meta: RequestMeta | None) -> None:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("donation__branch").get(pk=refund_pk)
        if refund.status not in OPEN:
            return
        refund.status = RS.FAILED
        refund.failure_reason = reason[:200]
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "failure_reason", "completed_at"])
        audit_record(
            actor=actor,
            action="funds.refund_fail",
            obj=refund,
            branch=refund.donation.branch,
            after={"refund": refund.out_refund_no, "reason": refund.failure_reason},
            meta=meta,
        )
    logger.warning("refund %s failed: %s", refund.out_refund_no, reason[:200])


def _refund_complete(
    refund_pk: int, *, result: RefundResult, actor: User | None, meta: RequestMeta | None
) -> None:
    """Record a refund the channel confirmed, exactly once (the sweeper may race the request)."""
    try:
        with transaction.atomic():
            _complete_locked(refund_pk, result=result, actor=actor, meta=meta)
    except _FundShort:
        # The fund was spent between our check and the channel's answer: the
        # channel has paid the money back, but the journal cannot show it out of
        # this fund. Marked failed with the reason for finance; the daily
        # reconciliation reports the channel's refund as a refund mismatch.
        logger.error("refund %s confirmed by the channel but the fund is short", refund_pk)
        _refund_fail(refund_pk, reason=_fund_short_message(), actor=actor, meta=meta)


class _FundShort(Exception):
    pass


def _complete_locked(
    refund_pk: int, *, result: RefundResult, actor: User | None, meta: RequestMeta | None
) -> None:
    # Locks in the order refund_request takes them: donation, then refund.
    donation_pk = Refund.objects.values_list("donation_id", flat=True).get(pk=refund_pk)
    donation = (
        Donation.objects.select_for_update(of=("self",))
        .select_related("project", "branch")
        .get(pk=donation_pk)
    )
    refund = Refund.objects.select_for_update().get(pk=refund_pk)
    if refund.status not in OPEN:
        return  # completed (or failed) by a concurrent call
    amount = refund.amount_fen
    codes = [_debit_code(donation), clearing_code(donation.channel, donation.branch_id)]
    accounts = {a.code: a for a in Account.objects.filter(code__in=codes)}
    if len(accounts) != 2:
        donation_accounts_open(donation.project)
        accounts = {a.code: a for a in Account.objects.filter(code__in=codes)}
    try:
        entry = journal_post(
            lines=[(accounts[codes[0]], amount, 0), (accounts[codes[1]], 0, amount)],
            reference=f"refund:{refund.out_refund_no}",
            reason="refund of late donation" if donation.refund_flagged else "refund",
            actor=actor,
        )
    except ValidationError as exc:
        if getattr(exc, "code", None) in ("restricted_negative", "restricted_reserved"):
            raise _FundShort from None
        raise
    leaf = ledger_append(
        kind="refund",
        payload={
            "refund": refund.out_refund_no,
            "donation": donation.out_trade_no,
            "project": donation.project_id,
            "branch": donation.branch_id,
            "channel": donation.channel,
            "amount_fen": amount,
            "donor": donation.commitment,
        },
    )
    before = {"status": donation.status, "refunded_fen": donation.refunded_fen}
    completed_at = timezone.now()
    refunded = donation.refunded_fen + amount
    new_status = D.REFUNDED if refunded == donation.amount_fen else D.PARTLY_REFUNDED
    if TRANSITIONS.get((D(donation.status), new_status)) != "refund":
        raise ValidationError(_("Only a paid donation can be refunded."), code="not_paid")
    donation.refunded_fen = refunded
    donation.status = new_status
    donation.save(update_fields=["refunded_fen", "status"])
    if not donation.refund_flagged:
        # Late money never counted towards the project, so it is not taken off.
        FundraisingProject.objects.filter(pk=donation.project_id).update(
            raised_fen=F("raised_fen") - amount,
            donation_count=F("donation_count") - (1 if new_status == D.REFUNDED else 0),
        )
        daily_refunded(donation, amount, at=completed_at, fully=new_status == D.REFUNDED)
    if new_status == D.REFUNDED:
        receipt = Receipt.objects.filter(donation=donation).exclude(status=Receipt.Status.VOIDED).first()
        if receipt is not None:
            from rendao.funds.receipting import receipt_void

            receipt_void(receipt, reason=f"refunded ({refund.out_refund_no})", actor=actor)
    refund.status = RS.SUCCEEDED
    refund.completed_at = completed_at
    refund.channel_refund_id = result.channel_refund_id[:64]
    refund.journal_entry = entry
    refund.ledger_index = leaf.index
    refund.save(
        update_fields=["status", "completed_at", "channel_refund_id", "journal_entry", "ledger_index"]
    )
    audit_record(
        actor=actor,
        action="funds.refund_succeed",
        obj=refund,
        branch=donation.branch,
        before=before,
        after={
            "refund": refund.out_refund_no,
            "donation": donation.out_trade_no,
            "amount_fen": amount,
            "status": new_status,
            "refunded_fen": refunded,
        },
        meta=meta,
    )


# --- the sweeper and late money ----------------------------------------------------------------


@dataclass
class RefundSweep:
    asked: int = 0
    succeeded: int = 0
    failed: int = 0


def refunds_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> RefundSweep:
    """Ask the channel again about refunds left requested or processing; record the answers.

    Safe to run twice at once and alongside the request that created a refund:
    the channel answers the same refund number with the same refund, and
    `_refund_complete` records it once under the row locks.
    """
    now = now or timezone.now()
    result = RefundSweep()
    due = (
        Refund.objects.filter(status__in=OPEN, created_at__lte=now - SWEEP_AFTER)
        .select_related("donation")
        .order_by("created_at", "pk")[:batch]
    )
    for refund in list(due):
        result.asked += 1
        _ask_channel(refund, actor=None, meta=None)
        status = Refund.objects.values_list("status", flat=True).get(pk=refund.pk)
        result.succeeded += status == RS.SUCCEEDED
        result.failed += status == RS.FAILED
    return result


LATE_REASON = "Payment arrived after the order had closed"


def late_payments_refund(*, actor: User | None = None, now: datetime | None = None) -> list[Refund]:
    """Refund in full every late payment (refund_flagged) not yet refunded or being refunded.

    Each gets the refund number `late_refund_no(donation)`, so running this
    again refunds nothing twice; a user needs FINANCE_MANAGE at each branch.
    """
    due = (
        Donation.objects.filter(refund_flagged=True, status=D.PAID)
        .exclude(Q(refunds__status__in=OPEN_OR_DONE))
        .select_related("project", "branch")
        .order_by("paid_at", "pk")
    )
    return [
        refund_request(
            donation=donation,
            amount_fen=donation.amount_fen,
            out_refund_no=late_refund_no(donation),
            reason=LATE_REASON,
            actor=actor,
            now=now,
        )
        for donation in due
    ]
