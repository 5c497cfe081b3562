"""Daily reconciliation: one channel's bill of one day against our records.

`reconcile` reads the bill (downloaded from the channel, or uploaded by finance),
takes our records of the same China day (donations of that channel paid that day,
refunds of its donations that succeeded that day) and reports five kinds of
difference (ReconciliationDifference.Kind). The run, its differences, the ledger
leaf and the audit row are written in one transaction; the same bill imported
again returns the run already stored. Nothing else is changed: finance resolves
each difference by hand (docs/reconciliation.md).

Channels are contracted by the city society, so reconciling takes FINANCE_MANAGE
at the city root and reading the runs FINANCE_VIEW there; the periodic job runs
without an actor.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope
from rendao.funds.models import (
    Donation,
    ReconciliationDifference,
    ReconciliationRun,
    Refund,
    RefundStatus,
)
from rendao.funds.payments import (
    CHANNELS,
    PermanentChannelError,
    TransientChannelError,
    channel_get,
)
from rendao.funds.payments.bills import CHINA, BillFormatError, BillRow
from rendao.ledger.services import ledger_append

logger = logging.getLogger(__name__)
K = ReconciliationDifference.Kind

# Channel name → its bill parser (one `bill.py` next to each adapter).
PARSERS: dict[str, str] = {
    name: path.rsplit(".", 2)[0] + ".bill.parse_bill" for name, path in CHANNELS.items()
}

# The parsers' reason codes in the reader's language (rendao.funds.payments.bills.REASONS).
BILL_ERRORS: dict[str, Promise] = {
    "empty": gettext_lazy("The bill is empty."),
    "too_large": gettext_lazy("The bill is larger than 50 MB."),
    "encoding": gettext_lazy("The bill is not text in the channel's encoding."),
    "header": gettext_lazy("The header is not the one this channel's bill starts with."),
    "fields": gettext_lazy("The line does not have the expected number of fields."),
    "backtick": gettext_lazy("A field lacks the ` that the channel puts in front of every value."),
    "amount": gettext_lazy("An amount is not a number of yuan with at most two decimals."),
    "amount_fen": gettext_lazy("An amount is not a whole positive number of fen."),
    "amount_sign": gettext_lazy("An amount has the wrong sign for its kind of row."),
    "time": gettext_lazy("A time is not in the channel's format."),
    "kind": gettext_lazy("The kind of row is neither a payment nor a refund."),
    "missing": gettext_lazy("A required field is empty."),
    "summary_missing": gettext_lazy("The summary at the end of the bill is missing."),
    "summary_mismatch": gettext_lazy("The summary does not agree with the rows."),
    "trailing": gettext_lazy("There is text after the summary."),
    "not_zip": gettext_lazy("The file is not a ZIP archive."),
    "zip_too_large": gettext_lazy("The archive unpacks to more than 50 MB or holds too many files."),
    "zip_unreadable": gettext_lazy("The archive is damaged or encrypted."),
    "zip_no_detail": gettext_lazy("The archive holds no 业务明细 (trade detail) file."),
}


def city_root() -> Branch:
    """The city society: the payment channels are contracted at this level."""
    root: Branch | None = Branch.objects.filter(depth=1).order_by("path").first()
    if root is None:
        raise PermissionDenied(_("No city society is set up."))
    return root


def china_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=CHINA)
    return start, start + timedelta(days=1)


def china_today() -> date:
    return timezone.now().astimezone(CHINA).date()


# --- comparing (plain data in, plain data out; tested without a database too) -------


@dataclass(frozen=True)
class LocalPayment:
    out_trade_no: str
    channel_txn_id: str
    amount_fen: int


@dataclass(frozen=True)
class LocalRefund:
    out_refund_no: str
    out_trade_no: str
    amount_fen: int


@dataclass(frozen=True)
class Difference:
    kind: str
    out_trade_no: str = ""
    out_refund_no: str = ""
    channel_amount_fen: int | None = None
    local_amount_fen: int | None = None
    note: str = ""


@dataclass
class Comparison:
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)


def compare(
    rows: Iterable[BillRow], payments: Iterable[LocalPayment], refunds: Iterable[LocalRefund]
) -> Comparison:
    """Match the bill with our records by order number and refund number."""
    result = Comparison()
    found = result.differences.append
    bill_pays = [row for row in rows if row.kind == "pay"]
    bill_refunds = [row for row in rows if row.kind == "refund"]

    # Payments. A second row for one order, or one channel transaction paying two
    # orders, is a duplicate; only the first row of an order is matched.
    local_by_no: dict[str, LocalPayment] = {}
    for payment in payments:
        if payment.out_trade_no in local_by_no:
            found(Difference(K.DUPLICATE, payment.out_trade_no, note="order recorded twice"))
            continue
        local_by_no[payment.out_trade_no] = payment
    txns = Counter(payment.channel_txn_id for payment in local_by_no.values())
    for txn, count in txns.items():
        if count > 1:
            for payment in local_by_no.values():
                if payment.channel_txn_id == txn:
                    found(
                        Difference(
                            K.DUPLICATE,
                            payment.out_trade_no,
                            local_amount_fen=payment.amount_fen,
                            note=f"one channel transaction recorded on {count} donations",
                        )
                    )
    seen: dict[str, BillRow] = {}
    txn_orders: dict[str, str] = {}
    for row in bill_pays:
        if row.out_trade_no in seen:
            found(
                Difference(
                    K.DUPLICATE,
                    row.out_trade_no,
                    channel_amount_fen=row.amount_fen,
                    note=f"order paid again in the bill (line {row.line})",
                )
            )
            continue
        other = txn_orders.setdefault(row.channel_txn_id, row.out_trade_no)
        if other != row.out_trade_no:
            found(
                Difference(
                    K.DUPLICATE,
                    row.out_trade_no,
                    channel_amount_fen=row.amount_fen,
                    note=f"the bill gives this order the transaction of {other}",
                )
            )
        seen[row.out_trade_no] = row
        local = local_by_no.get(row.out_trade_no)
        if local is None:
            found(
                Difference(
                    K.MISSING_LOCALLY,
                    row.out_trade_no,
                    channel_amount_fen=row.amount_fen,
                    note="no donation of this channel recorded as paid on this day",
                )
            )
        elif local.amount_fen != row.amount_fen:
            found(
                Difference(
                    K.AMOUNT_DIFFERS,
                    row.out_trade_no,
                    channel_amount_fen=row.amount_fen,
                    local_amount_fen=local.amount_fen,
                )
            )
        elif local.channel_txn_id != row.channel_txn_id:
            found(
                Difference(
                    K.DUPLICATE,
                    row.out_trade_no,
                    channel_amount_fen=row.amount_fen,
                    local_amount_fen=local.amount_fen,
                    note="the bill's transaction differs from the one recorded: paid twice?",
                )
            )
        else:
            result.matched += 1
    for no, local in local_by_no.items():
        if no not in seen:
            found(
                Difference(
                    K.MISSING_AT_CHANNEL,
                    no,
                    local_amount_fen=local.amount_fen,
                    note="recorded as paid on this day, absent from the bill",
                )
            )

    # Refunds, by our refund number.
    local_refunds = {refund.out_refund_no: refund for refund in refunds}
    seen_refunds: set[str] = set()
    for row in bill_refunds:
        if row.out_refund_no in seen_refunds:
            found(
                Difference(
                    K.DUPLICATE,
                    row.out_trade_no,
                    row.out_refund_no,
                    channel_amount_fen=row.amount_fen,
                    note=f"refund listed again in the bill (line {row.line})",
                )
            )
            continue
        seen_refunds.add(row.out_refund_no)
        mine = local_refunds.get(row.out_refund_no)
        if mine is None:
            note = "no refund with this number succeeded here on this day"
        elif mine.out_trade_no != row.out_trade_no:
            note = f"our refund with this number is of order {mine.out_trade_no}"
        elif mine.amount_fen != row.amount_fen:
            note = "refunded amounts differ"
        else:
            result.matched += 1
            continue
        found(
            Difference(
                K.REFUND_MISMATCH,
                row.out_trade_no,
                row.out_refund_no,
                channel_amount_fen=row.amount_fen,
                local_amount_fen=mine.amount_fen if mine else None,
                note=note,
            )
        )
    for no, mine in local_refunds.items():
        if no not in seen_refunds:
            found(
                Difference(
                    K.REFUND_MISMATCH,
                    mine.out_trade_no,
                    no,
                    local_amount_fen=mine.amount_fen,
                    note="refund succeeded here on this day, absent from the bill",
                )
            )
    return result


# --- the service ---------------------------------------------------------------------


def _bill_error(exc: BillFormatError) -> ValidationError:
    # Translated now, in the language of the request or command that asked.
    reason = str(BILL_ERRORS.get(exc.reason, BILL_ERRORS["header"]))
    if exc.line:
        return ValidationError(
            _("Line %(line)s of the bill: %(reason)s"),
            code=f"bill_{exc.reason}",
            params={"line": exc.line, "reason": reason},
        )
    return ValidationError(reason, code=f"bill_{exc.reason}")


def _download(channel: str, day: date) -> bytes:
    try:
        return channel_get(channel).download_bill(day)
    except TransientChannelError:
        raise ValidationError(
            _("The channel's bill could not be downloaded just now; try again later."), code="transient"
        ) from None
    except PermanentChannelError:
        raise ValidationError(
            _("The channel refused to give its bill of that day (not yet made, or too old)."),
            code="refused",
        ) from None


def _locals(channel: str, day: date) -> tuple[list[LocalPayment], list[LocalRefund]]:
    start, end = china_day_bounds(day)
    payments = [
        LocalPayment(out_trade_no, txn or "", amount)
        for out_trade_no, txn, amount in Donation.objects.filter(
            channel=channel, paid_at__gte=start, paid_at__lt=end, channel_txn_id__isnull=False
        )
        .order_by("paid_at", "id")
        .values_list("out_trade_no", "channel_txn_id", "amount_fen")
    ]
    refunds = [
        LocalRefund(out_refund_no, out_trade_no, amount)
        for out_refund_no, out_trade_no, amount in Refund.objects.filter(
            donation__channel=channel,
            status=RefundStatus.SUCCEEDED,
            completed_at__gte=start,
            completed_at__lt=end,
        )
        .order_by("completed_at", "id")
        .values_list("out_refund_no", "donation__out_trade_no", "amount_fen")
    ]
    return payments, refunds


def _explained(differences: list[Difference], channel: str, day: date) -> list[Difference]:
    """Say what we do know of an order or refund the day's records lack (a day boundary, a status)."""
    orders = {d.out_trade_no for d in differences if d.kind == K.MISSING_LOCALLY}
    refund_nos = {d.out_refund_no for d in differences if d.kind == K.REFUND_MISMATCH and d.out_refund_no}
    donations = {
        no: (other, status, paid_at)
        for no, other, status, paid_at in Donation.objects.filter(out_trade_no__in=orders).values_list(
            "out_trade_no", "channel", "status", "paid_at"
        )
    }
    ours = {
        no: (status, completed_at)
        for no, status, completed_at in Refund.objects.filter(out_refund_no__in=refund_nos).values_list(
            "out_refund_no", "status", "completed_at"
        )
    }
    explained = []
    for difference in differences:
        extra = ""
        if difference.kind == K.MISSING_LOCALLY:
            other, status, paid_at = donations.get(difference.out_trade_no, ("", "", None))
            if not status:
                extra = "no such order here"
            elif other != channel:
                extra = f"the order is for {other} here"
            elif paid_at is not None:
                extra = f"recorded as paid on {paid_at.astimezone(CHINA).date().isoformat()}"
            else:
                extra = f"the order is {status} here"
        elif difference.kind == K.REFUND_MISMATCH and difference.out_refund_no in ours:
            status, completed_at = ours[difference.out_refund_no]
            if status != RefundStatus.SUCCEEDED:
                extra = f"our refund is {status}"
            elif completed_at is not None and completed_at.astimezone(CHINA).date() != day:
                extra = f"ours succeeded on {completed_at.astimezone(CHINA).date().isoformat()}"
        if extra and extra not in difference.note:
            difference = replace(difference, note=f"{difference.note}; {extra}".strip("; "))
        explained.append(difference)
    return explained


def reconcile(
    *,
    channel: str,
    day: date,
    raw: bytes | None = None,
    actor: User | None = None,
    meta: RequestMeta | None = None,
) -> ReconciliationRun:
    """Compare the channel's bill of `day` (downloaded when `raw` is None) with our records.

    Raises PermissionDenied (actor without FINANCE_MANAGE at the city root) or
    ValidationError (unknown channel, a day not yet over, the bill unavailable or
    not in the channel's format); nothing is stored then.
    """
    if actor is not None and not in_scope(actor, Perm.FINANCE_MANAGE, city_root()):
        raise PermissionDenied(_("Only the city society's finance staff reconcile payment channels."))
    if channel not in CHANNELS or channel not in settings.PAYMENT_CHANNELS:
        raise ValidationError({"channel": _("This payment channel is not enabled.")})
    if day > china_today():
        raise ValidationError({"day": _("A day that has not begun has no bill.")})
    source = ReconciliationRun.Source.UPLOAD if raw is not None else ReconciliationRun.Source.DOWNLOAD
    if raw is None:
        raw = _download(channel, day)
    bill_sha256 = hashlib.sha256(raw).hexdigest()
    existing = ReconciliationRun.objects.filter(channel=channel, day=day, bill_sha256=bill_sha256).first()
    if existing is not None:
        return existing
    parse: Callable[[bytes], list[BillRow]] = import_string(PARSERS[channel])
    try:
        rows = parse(raw)
    except BillFormatError as exc:
        raise ValidationError({"file": _bill_error(exc)}) from None
    for row in rows:
        if row.at.astimezone(CHINA).date() != day:
            raise ValidationError(
                {
                    "file": _("Line %(line)s of the bill is dated %(date)s, not the day reconciled.")
                    % {"line": row.line, "date": row.at.astimezone(CHINA).date().isoformat()}
                }
            )
    payments, refunds = _locals(channel, day)
    comparison = compare(rows, payments, refunds)
    comparison.differences = _explained(comparison.differences, channel, day)
    try:
        with transaction.atomic():
            return _store(
                channel=channel,
                day=day,
                source=source,
                bill_sha256=bill_sha256,
                rows=rows,
                payments=payments,
                refunds=refunds,
                comparison=comparison,
                actor=actor,
                meta=meta,
            )
    except IntegrityError:
        # The same bill imported at the same moment by another process: theirs stands.
        return ReconciliationRun.objects.get(channel=channel, day=day, bill_sha256=bill_sha256)


def _store(
    *,
    channel: str,
    day: date,
    source: str,
    bill_sha256: str,
    rows: list[BillRow],
    payments: list[LocalPayment],
    refunds: list[LocalRefund],
    comparison: Comparison,
    actor: User | None,
    meta: RequestMeta | None,
) -> ReconciliationRun:
    kinds = Counter(difference.kind for difference in comparison.differences)
    figures = {
        "bill_count": len(rows),
        "local_count": len(payments) + len(refunds),
        "matched_count": comparison.matched,
        "channel_paid_fen": sum(row.amount_fen for row in rows if row.kind == "pay"),
        "channel_refunded_fen": sum(row.amount_fen for row in rows if row.kind == "refund"),
        "local_paid_fen": sum(payment.amount_fen for payment in payments),
        "local_refunded_fen": sum(refund.amount_fen for refund in refunds),
    }
    status = ReconciliationRun.Status.DIFFERENCES if kinds else ReconciliationRun.Status.BALANCED
    # The leaf says how the day came out, never which orders: order numbers lead to donors.
    leaf = ledger_append(
        kind="reconciliation",
        payload={
            "channel": channel,
            "day": day.isoformat(),
            "bill_sha256": bill_sha256,
            **figures,
            "status": str(status),
            "differences": {kind: kinds.get(kind, 0) for kind in K.values},
        },
    )
    run = ReconciliationRun.objects.create(
        channel=channel,
        day=day,
        created_by=actor,
        source=source,
        bill_sha256=bill_sha256,
        status=status,
        ledger_index=leaf.index,
        **figures,
    )
    ReconciliationDifference.objects.bulk_create(
        ReconciliationDifference(
            run=run,
            kind=difference.kind,
            out_trade_no=difference.out_trade_no[:64],
            out_refund_no=difference.out_refund_no[:64],
            channel_amount_fen=difference.channel_amount_fen,
            local_amount_fen=difference.local_amount_fen,
            note=difference.note[:200],
        )
        for difference in comparison.differences
    )
    audit_record(
        actor=actor,
        action="funds.reconciliation",
        obj=run,
        branch=city_root(),
        after={"channel": channel, "day": day.isoformat(), "status": str(status), **figures},
        meta=meta,
    )
    return run


def reconcile_yesterday() -> dict[str, str]:
    """The periodic job: yesterday (China time) for every enabled channel.

    A channel that fails (bill not ready, network, a malformed bill) is logged
    and left for finance or the next run; the others still run.
    """
    day = china_today() - timedelta(days=1)
    outcome: dict[str, str] = {}
    for channel in settings.PAYMENT_CHANNELS:
        try:
            run = reconcile(channel=channel, day=day)
        except ValidationError as exc:
            logger.warning("reconciliation of %s on %s failed: %s", channel, day, "; ".join(exc.messages))
            outcome[channel] = "failed"
        except Exception:
            logger.exception("reconciliation of %s on %s crashed", channel, day)
            outcome[channel] = "failed"
        else:
            outcome[channel] = run.status
            if run.status != ReconciliationRun.Status.BALANCED:
                logger.warning(
                    "reconciliation of %s on %s: %d difference(s)", channel, day, run.differences.count()
                )
    return outcome


# --- reads -------------------------------------------------------------------------


def _require_view(user: User) -> None:
    if not in_scope(user, Perm.FINANCE_VIEW, city_root()):
        raise PermissionDenied(_("Reconciliations are shown to the city society's finance staff."))


def runs_for_viewer(*, user: User) -> QuerySet[ReconciliationRun]:
    _require_view(user)
    return ReconciliationRun.objects.select_related("created_by")


def run_get_for_viewer(*, user: User, pk: int) -> ReconciliationRun:
    _require_view(user)
    try:
        return ReconciliationRun.objects.select_related("created_by").get(pk=pk)
    except ReconciliationRun.DoesNotExist:
        raise Http404(_("No such reconciliation.")) from None


def differences_by_kind(run: ReconciliationRun) -> dict[str, list[ReconciliationDifference]]:
    grouped: dict[str, list[ReconciliationDifference]] = defaultdict(list)
    for difference in run.differences.all():
        grouped[difference.kind].append(difference)
    return dict(grouped)
