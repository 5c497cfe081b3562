"""Online donations, exactly once: the order, the channel's word that it was paid, the receipt.

Order lifecycle (as data in TRANSITIONS)::

    created → paying → paid → partly_refunded → refunded
       │         │
       └─────────┴──→ expired / closed   (unpaid past its time; closed at the channel)

Pages and the API go through `donation_start`, which asks the channel first and
writes the order once, already paying; `donation_create` + `donation_checkout`
keep the two steps apart (an order made now, paid through the channel later).

The one way money is recorded is `payment_record`, given a `VerifiedPayment`
(from a notification that passed the channel adapter's signature checks, or from
the channel's own answer to a query). In ONE transaction it locks the order row,
stores the notification's nonce (unique: a replay fails), checks the order,
channel and amount, makes (channel, channel transaction id) unique on the order,
posts the balanced journal entry, appends the transparency-log leaf and bumps
the project's progress counters. Either all of that commits or none of it:
duplicates are acknowledged and change nothing; a forged, replayed or
mismatched notification is refused, recorded as a security event (its own
small transaction) and changes nothing; money arriving for an order we had
already expired is recorded against refunds payable and flagged for refund.

Accounts a donation posts to (opened when the project opens, see
`donation_accounts_open`): debit the channel's clearing account of the
project's branch (CLR-<channel>-<branch>), credit the project's restricted fund
(RF-<project>) or the branch's general fund (GF-<branch>); late money credits
refunds payable (RP-<branch>) instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.masking import mask_name
from rendao.funds.accounting import account_open, journal_post
from rendao.funds.daily import daily_received
from rendao.funds.models import (
    Account,
    CoInitiator,
    Donation,
    DonationStatus,
    FundraisingProject,
    NotificationNonce,
    NotificationRejection,
    ProjectStatus,
)
from rendao.funds.payments import (
    CHANNEL_LABELS,
    Checkout,
    ClientInfo,
    ForgedNotification,
    MalformedNotification,
    NotificationIgnored,
    PaymentError,
    PermanentChannelError,
    Reply,
    TradeState,
    TransientChannelError,
    VerifiedPayment,
    channel_get,
)
from rendao.ledger.services import commitment, ledger_append, new_salt
from rendao.privacy.validation import parse_mobile

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

logger = logging.getLogger("rendao.funds.payments")

D = DonationStatus
M = TypeVar("M", bound=Model)
# Who may move an order where: "payment" = payment_record, "sweep" = the sweeper
# or a query, "refund" = the refund services.
TRANSITIONS: dict[tuple[DonationStatus, DonationStatus], str] = {
    (D.CREATED, D.PAYING): "checkout",
    (D.CREATED, D.PAID): "payment",
    (D.PAYING, D.PAID): "payment",
    (D.EXPIRED, D.PAID): "payment",  # late money: recorded, flagged for refund
    (D.CLOSED, D.PAID): "payment",
    (D.CREATED, D.EXPIRED): "sweep",
    (D.PAYING, D.EXPIRED): "sweep",
    (D.CREATED, D.CLOSED): "sweep",
    (D.PAYING, D.CLOSED): "sweep",
    (D.PAID, D.PARTLY_REFUNDED): "refund",
    (D.PAID, D.REFUNDED): "refund",
    (D.PARTLY_REFUNDED, D.PARTLY_REFUNDED): "refund",
    (D.PARTLY_REFUNDED, D.REFUNDED): "refund",
}
UNPAID = (D.CREATED, D.PAYING)
# Suggested amounts on the donation page, in fen (10, 50, 100, 500 yuan).
PRESETS_FEN = (1_000, 5_000, 10_000, 50_000)
# What the public list and receipts say for a donor who gave no name.
ANONYMOUS_NAME = "爱心人士"
NAME_MAX = 50
IDEMPOTENCY_KEY_MAX = 64


def _one(queryset: QuerySet[M]) -> M | None:
    """The row a unique key finds, or None: unlike first(), no ORDER BY to build and run
    (the payment path compiles its queries on every call)."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None


def _is_fen(value: object) -> bool:
    return type(value) is int


# --- accounts -----------------------------------------------------------------------


def clearing_code(channel: str, branch_id: int) -> str:
    return f"CLR-{channel}-{branch_id}"


def general_fund_code(branch_id: int) -> str:
    return f"GF-{branch_id}"


def refunds_payable_code(branch_id: int) -> str:
    return f"RP-{branch_id}"


def fund_code(project: FundraisingProject) -> str:
    return f"RF-{project.pk}" if project.restricted else general_fund_code(project.branch_id)


def donation_accounts_open(project: FundraisingProject, *, actor: User | None = None) -> None:
    """Open (once) every account a donation to `project` can post to; idempotent."""
    branch = project.branch
    names = {"branch": branch.name}
    wanted: list[tuple[str, str, str]] = [
        (general_fund_code(branch.pk), _("General fund of %(branch)s") % names, Account.Kind.GENERAL_FUND),
        (
            refunds_payable_code(branch.pk),
            _("Refunds payable of %(branch)s") % names,
            Account.Kind.REFUNDS_PAYABLE,
        ),
    ]
    for channel in project.channels:
        label = str(CHANNEL_LABELS.get(channel, channel))
        wanted.append(
            (
                clearing_code(channel, branch.pk),
                _("%(channel)s clearing of %(branch)s") % {"channel": label, **names},
                Account.Kind.CHANNEL_CLEARING,
            )
        )
    existing = set(Account.objects.filter(code__in=[w[0] for w in wanted]).values_list("code", flat=True))
    for code, name, kind in wanted:
        if code in existing:
            continue
        try:
            with transaction.atomic():
                account_open(code=code, name=name[:200], kind=kind, branch=branch, actor=actor)
        except ValidationError:
            # Opened concurrently by another request: what we wanted exists.
            if not Account.objects.filter(code=code).exists():
                raise


# --- creating an order --------------------------------------------------------------


@dataclass(frozen=True)
class DonationRequest:
    """What a donor asked for: the page's form or the API's body."""

    project_id: int
    amount_fen: int
    channel: str
    anonymous: bool = False
    donor_name: str = ""
    mobile: str = ""
    receipt_wanted: bool = True
    attribution: str = ""
    # Art 21 / Art 42 feedback: tell this donor how the project's money is used.
    feedback_wanted: bool = True

    def fingerprint(self) -> str:
        # Same key + same body = same order; the fingerprint is of the body, so a
        # retry with another amount under the same key is refused, not merged.
        body = dict(self.__dict__)
        # Left out at its default, so orders fingerprinted before the field existed still match.
        if body.get("feedback_wanted") is True:
            body.pop("feedback_wanted")
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(canonical).hexdigest()


def _today(now: datetime) -> Any:
    return timezone.localtime(now).date()


def _check_request(req: DonationRequest, now: datetime) -> tuple[FundraisingProject, CoInitiator | None, str]:
    """Every check on a donation request; returns (project, co-initiator, E.164 mobile)."""
    errors: dict[str, str] = {}
    amount = req.amount_fen
    if not _is_fen(amount):
        errors["amount_fen"] = _("The amount must be a whole number of fen.")
    elif amount <= 0:
        errors["amount_fen"] = _("The amount must be more than zero.")
    elif amount < settings.DONATION_MIN_FEN:
        errors["amount_fen"] = _("The smallest online donation is %(yuan)s yuan.") % {
            "yuan": _yuan(settings.DONATION_MIN_FEN)
        }
    elif amount > settings.DONATION_MAX_FEN:
        errors["amount_fen"] = _(
            "Online donations are limited to %(yuan)s yuan each; for a larger gift please contact us "
            "for a bank transfer."
        ) % {"yuan": _yuan(settings.DONATION_MAX_FEN)}
    project = _one(FundraisingProject.objects.filter(pk=req.project_id)) if _is_fen(req.project_id) else None
    if project is None:
        errors["project_id"] = _("There is no such fundraising project.")
    elif project.status != ProjectStatus.OPEN or not (project.start_date <= _today(now) <= project.end_date):
        errors["project_id"] = _("This project is not open for donations.")
    if req.channel not in settings.PAYMENT_CHANNELS or (
        project is not None and req.channel not in project.channels
    ):
        errors["channel"] = _("This payment channel is not available for this project.")
    name = (req.donor_name or "").strip()
    if not req.anonymous and not name:
        errors["donor_name"] = _("Enter your name, or choose to give anonymously.")
    elif len(name) > NAME_MAX:
        errors["donor_name"] = _("The name can have at most %(n)d characters.") % {"n": NAME_MAX}
    mobile = ""
    if req.mobile:
        try:
            mobile = parse_mobile(req.mobile)
        except ValidationError as exc:
            errors["mobile"] = exc.messages[0]
    co_initiator = None
    if req.attribution and project is not None:
        co_initiator = CoInitiator.objects.filter(project=project, attribution_code=req.attribution).first()
        if co_initiator is None:
            errors["attribution"] = _("This partner link does not belong to this project.")
    if errors or project is None:
        raise ValidationError(errors)
    return project, co_initiator, mobile


def _yuan(fen: int) -> str:
    yuan, cents = divmod(fen, 100)
    return f"{yuan:,}" if not cents else f"{yuan:,}.{cents:02d}"


def new_out_trade_no(now: datetime) -> str:
    """`RD` + local date + 16 random hex digits: unique, unguessable, ≤ 32 characters
    of [0-9A-Z] as WeChat Pay and Alipay require."""
    return f"RD{timezone.localtime(now):%Y%m%d}{secrets.token_hex(8).upper()}"


def _check_key(idempotency_key: str) -> None:
    if not (0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX) or not idempotency_key.isprintable():
        raise ValidationError(
            {"idempotency_key": _("The idempotency key must be 1 to 64 printable characters.")}
        )


def _new_donation(
    req: DonationRequest, *, user: User | None, idempotency_key: str | None, now: datetime
) -> Donation:
    """The checked, not yet saved order of `req` (status created)."""
    project, co_initiator, mobile = _check_request(req, now)
    name = "" if req.anonymous else req.donor_name.strip()
    salt = new_salt()
    out_trade_no = new_out_trade_no(now)
    return Donation(
        out_trade_no=out_trade_no,
        project=project,
        branch_id=project.branch_id,
        co_initiator=co_initiator,
        channel=req.channel,
        amount_fen=req.amount_fen,
        user=user if user is not None and user.is_authenticated else None,
        anonymous=req.anonymous,
        donor_name=name,
        donor_mobile=mobile,
        public_name=mask_name(name) if name else ANONYMOUS_NAME,
        receipt_wanted=req.receipt_wanted,
        feedback_wanted=bool(req.feedback_wanted),
        commitment_salt=salt.hex(),
        commitment=commitment(salt, out_trade_no),
        follow_token=secrets.token_urlsafe(32),
        idempotency_key=idempotency_key,
        request_fingerprint=req.fingerprint() if idempotency_key else "",
        created_at=now,
        expires_at=now + timedelta(minutes=settings.DONATION_ORDER_TTL_MINUTES),
    )


def _insert(donation: Donation, req: DonationRequest, idempotency_key: str | None) -> tuple[Donation, bool]:
    try:
        with transaction.atomic():
            donation.save(force_insert=True)
    except IntegrityError:
        # The same idempotency key raced us in: answer with the winner's order.
        if idempotency_key is None:
            raise
        winner = Donation.objects.get(idempotency_key=idempotency_key)
        return _replayed(winner, req), False
    return donation, True


def donation_create(
    req: DonationRequest,
    *,
    user: User | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Donation, bool]:
    """Create the order (status created); returns (donation, created).

    With an idempotency key, the same key and the same request give back the
    first order (created False); the same key with another request is refused.
    Nothing is asked of the channel here: `donation_checkout` does that, outside
    any transaction. Pages and the API use `donation_start`, which does both.
    """
    now = now or timezone.now()
    if idempotency_key is not None:
        _check_key(idempotency_key)
        existing = _one(Donation.objects.filter(idempotency_key=idempotency_key))
        if existing is not None:
            return _replayed(existing, req), False
    return _insert(
        _new_donation(req, user=user, idempotency_key=idempotency_key, now=now), req, idempotency_key
    )


def notify_url(channel: str) -> str:
    """Where the channel posts its notifications for an order of `channel`."""
    return f"{settings.SITE_URL}{reverse('funds:pay_notify', kwargs={'channel': channel})}"


def donation_start(
    req: DonationRequest,
    *,
    client: ClientInfo,
    user: User | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Donation, bool, Checkout | None]:
    """Create the order and register it with its channel: (donation, created, checkout).

    The channel is asked first and the order is then written once, as paying:
    one write transaction per order instead of two (on SQLite each is a wait for
    the write lock and a sync to disk). Nothing can pay the order before this
    returns, since the donor learns how to pay from the answer; if writing fails
    after the channel accepted, the channel holds an order nobody can see, which
    expires unpaid. A repeated request (same idempotency key and body) answers
    the first order, with a checkout if it is still unpaid (None otherwise).
    """
    now = now or timezone.now()
    if idempotency_key is not None:
        _check_key(idempotency_key)
        existing = _one(Donation.objects.filter(idempotency_key=idempotency_key))
        if existing is not None:
            existing = _replayed(existing, req)
            return existing, False, _checkout_again(existing, client)
    donation = _new_donation(req, user=user, idempotency_key=idempotency_key, now=now)
    checkout = _register(donation, client)
    donation.status = D.PAYING
    donation, created = _insert(donation, req, idempotency_key)
    if not created:
        return donation, False, _checkout_again(donation, client)
    return donation, True, checkout


def _checkout_again(donation: Donation, client: ClientInfo) -> Checkout | None:
    if donation.status not in UNPAID:
        return None
    return donation_checkout(donation, notify_url=notify_url(donation.channel), client=client)


class IdempotencyConflict(ValidationError):
    """The idempotency key was first used with another request body."""


def _replayed(existing: Donation, req: DonationRequest) -> Donation:
    if existing.request_fingerprint != req.fingerprint():
        raise IdempotencyConflict(
            {
                "idempotency_key": _(
                    "This idempotency key was already used for a different donation; use a new key."
                )
            },
            code="idempotency_conflict",
        )
    return existing


def donation_checkout(donation: Donation, *, notify_url: str, client: ClientInfo) -> Checkout:
    """Register the order with its channel and say how the donor pays (created → paying).

    Called outside any transaction: it talks to the channel. Safe to call again
    (the channel finds the same order by its number).
    """
    if donation.status not in UNPAID:
        raise ValidationError(_("This donation can no longer be paid."), code="not_payable")
    if donation.expires_at <= timezone.now():
        raise ValidationError(_("This order has expired; please start a new donation."), code="expired")
    checkout = _register(donation, client, notify=notify_url)
    Donation.objects.filter(pk=donation.pk, status=D.CREATED).update(status=D.PAYING)
    if donation.status == D.CREATED:
        donation.status = D.PAYING
    return checkout


def _register(donation: Donation, client: ClientInfo, *, notify: str | None = None) -> Checkout:
    """Ask the channel to register the order; translated errors for the donor."""
    try:
        channel = channel_get(donation.channel)
        return channel.create_order(
            order_ref=donation.out_trade_no,
            amount_fen=donation.amount_fen,
            description=donation.project.title[:100],
            notify_url=notify or notify_url(donation.channel),
            client=client,
        )
    except KeyError:
        raise ValidationError(_("This payment channel is not available."), code="channel") from None
    except TransientChannelError:
        raise ValidationError(
            _("The payment service is not answering right now; please try again in a moment."),
            code="channel_busy",
        ) from None
    except PaymentError as exc:
        logger.warning("checkout refused by %s for %s: %s", donation.channel, donation.out_trade_no, exc)
        raise ValidationError(
            _("The payment service refused this order; please start a new donation."), code="channel_refused"
        ) from None


# --- recording a payment -------------------------------------------------------------


class Rejected(Exception):
    """A verified payment that does not fit our order: refuse, record, change nothing."""

    def __init__(self, reason: str, detail: str = "", out_trade_no: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail
        self.out_trade_no = out_trade_no


@dataclass(frozen=True)
class PaymentOutcome:
    donation: Donation
    # True when this call recorded the payment; False for a duplicate.
    recorded: bool
    late: bool = False


def ledger_payload(donation: Donation) -> dict[str, object]:
    """The public projection of a paid donation: no name, no number, no payer id."""
    return {
        "donation": donation.out_trade_no,
        "project": donation.project_id,
        "branch": donation.branch_id,
        "channel": donation.channel,
        "amount_fen": donation.amount_fen,
        "donor": donation.commitment,
        "co_initiator": donation.co_initiator.attribution_code if donation.co_initiator is not None else None,
        "held_for_refund": donation.refund_flagged,
    }


def payment_record(payment: VerifiedPayment, *, source: str = "notification") -> PaymentOutcome:
    """Record a verified payment exactly once (see the module docstring); raises Rejected."""
    if not _is_fen(payment.amount_fen) or payment.amount_fen <= 0:
        raise Rejected(NotificationRejection.Reason.MALFORMED, "amount is not positive whole fen")
    try:
        with transaction.atomic():
            return _record_locked(payment, source)
    except IntegrityError:
        # Two unique keys can refuse the insert; tell which (outside the failed
        # transaction): a nonce seen before is a replay, a transaction id on
        # another order a mismatch.
        if (
            payment.nonce
            and NotificationNonce.objects.filter(channel=payment.channel, nonce=payment.nonce[:64]).exists()
        ):
            raise Rejected(
                NotificationRejection.Reason.REPLAYED, "nonce seen before", payment.out_trade_no
            ) from None
        raise Rejected(
            NotificationRejection.Reason.TXN_MISMATCH,
            "transaction id already pays another order",
            payment.out_trade_no,
        ) from None


def _record_locked(payment: VerifiedPayment, source: str) -> PaymentOutcome:
    # The order row lock serialises every notification and query of one order:
    # the second of two duplicates waits here and then sees the first's result.
    donation_qs = (
        # of=self: lock the order only (PostgreSQL refuses FOR UPDATE on the
        # nullable side of the co-initiator's outer join).
        Donation.objects.select_for_update(of=("self",))
        .select_related("project", "co_initiator")
        .filter(out_trade_no=payment.out_trade_no)
    )
    donation = _one(donation_qs)
    if donation is None:
        raise Rejected(NotificationRejection.Reason.UNKNOWN_ORDER, "no such order", payment.out_trade_no)
    if payment.nonce:
        NotificationNonce.objects.create(channel=payment.channel, nonce=payment.nonce[:64])
    if donation.channel != payment.channel:
        raise Rejected(NotificationRejection.Reason.CHANNEL_MISMATCH, "", donation.out_trade_no)
    if payment.amount_fen != donation.amount_fen:
        raise Rejected(
            NotificationRejection.Reason.AMOUNT_MISMATCH,
            f"paid {payment.amount_fen} fen for an order of {donation.amount_fen}",
            donation.out_trade_no,
        )
    if donation.channel_txn_id:
        if donation.channel_txn_id == payment.channel_txn_id:
            return PaymentOutcome(donation, recorded=False, late=donation.refund_flagged)
        raise Rejected(
            NotificationRejection.Reason.TXN_MISMATCH,
            "order already paid by another transaction",
            donation.out_trade_no,
        )
    if (D(donation.status), D.PAID) not in TRANSITIONS:
        raise Rejected(
            NotificationRejection.Reason.TXN_MISMATCH, f"order is {donation.status}", donation.out_trade_no
        )

    late = donation.status in {D.EXPIRED, D.CLOSED}
    project = donation.project
    codes = [clearing_code(donation.channel, donation.branch_id)]
    codes.append(refunds_payable_code(donation.branch_id) if late else fund_code(project))
    accounts = _accounts_by_code(codes)
    if len(accounts) != 2:
        # The project opened without its accounts (data from before they were
        # opened at opening): open them now, in this transaction.
        donation_accounts_open(project)
        accounts = _accounts_by_code(codes)
    amount = donation.amount_fen
    entry = journal_post(
        lines=[(accounts[codes[0]], amount, 0), (accounts[codes[1]], 0, amount)],
        reference=f"donation:{donation.out_trade_no}",
        reason="late donation held for refund" if late else "donation",
    )
    donation.status = D.PAID
    donation.paid_at = payment.paid_at
    donation.channel_txn_id = payment.channel_txn_id
    donation.refund_flagged = late
    donation.journal_entry = entry
    leaf = ledger_append(
        kind="donation_received", payload=ledger_payload(donation), occurred_at=payment.paid_at
    )
    donation.ledger_index = leaf.index
    donation.save(
        update_fields=[
            "status",
            "paid_at",
            "channel_txn_id",
            "refund_flagged",
            "journal_entry",
            "ledger_index",
        ]
    )
    if not late:
        FundraisingProject.objects.filter(pk=project.pk).update(
            raised_fen=F("raised_fen") + amount, donation_count=F("donation_count") + 1
        )
        # After the update above: it holds the project's row lock (see daily.py).
        daily_received(donation)
    if late:
        logger.warning(
            "payment for closed order %s recorded and flagged for refund (%s)", donation.out_trade_no, source
        )
    elif donation.receipt_wanted:
        from rendao.funds.tasks import receipt_issue_task

        pk = donation.pk
        transaction.on_commit(lambda: receipt_issue_task(pk))
    return PaymentOutcome(donation, recorded=True, late=late)


def _accounts_by_code(codes: list[str]) -> dict[str, Account]:
    return {a.code: a for a in Account.objects.filter(code__in=codes).order_by()}


def rejection_record(
    *,
    channel: str,
    reason: str,
    detail: str = "",
    out_trade_no: str = "",
    body: bytes = b"",
    remote_ip: str | None = None,
) -> None:
    """Record a refused notification (its own transaction) and log it as a security event."""
    with transaction.atomic():
        NotificationRejection.objects.create(
            channel=channel[:32],
            reason=reason,
            detail=detail[:200],
            out_trade_no=out_trade_no[:64],
            body_sha256=hashlib.sha256(body).hexdigest(),
            remote_ip=remote_ip,
        )
    logger.warning(
        "security: %s notification refused (%s): %s [order %s, ip %s]",
        channel[:32],
        reason,
        detail[:200],
        out_trade_no[:64] or "-",
        remote_ip or "-",
    )


def notification_receive(
    channel_name: str, headers: Mapping[str, str], raw_body: bytes, *, remote_ip: str | None = None
) -> Reply:
    """The whole handling of a channel's asynchronous notification; the reply to send."""
    try:
        channel = channel_get(channel_name)
    except KeyError:
        rejection_record(
            channel=channel_name,
            reason=NotificationRejection.Reason.UNKNOWN_CHANNEL,
            body=raw_body,
            remote_ip=remote_ip,
        )
        return Reply(404, "text/plain; charset=utf-8", b"unknown channel")
    try:
        payment = channel.verify_notification(headers, raw_body)
    except NotificationIgnored:
        return channel.notification_reply(True)
    except ForgedNotification as exc:
        rejection_record(
            channel=channel_name,
            reason=NotificationRejection.Reason.FORGED,
            detail=str(exc),
            body=raw_body,
            remote_ip=remote_ip,
        )
        return channel.notification_reply(False)
    except MalformedNotification as exc:
        rejection_record(
            channel=channel_name,
            reason=NotificationRejection.Reason.MALFORMED,
            detail=str(exc),
            body=raw_body,
            remote_ip=remote_ip,
        )
        return channel.notification_reply(False)
    try:
        payment_record(payment, source="notification")
    except Rejected as exc:
        rejection_record(
            channel=channel_name,
            reason=exc.reason,
            detail=exc.detail,
            out_trade_no=exc.out_trade_no,
            body=raw_body,
            remote_ip=remote_ip,
        )
        return channel.notification_reply(False)
    return channel.notification_reply(True)


# --- asking the channel: the result page and the sweeper -----------------------------------


def donation_refresh(donation: Donation) -> Donation:
    """If the order is still unpaid, ask the channel; record a payment it reports.

    What the result page does while the notification is on its way, and what
    the sweeper does for orders nobody heard back about. Channel trouble leaves
    the order as it is (the next look asks again).
    """
    if donation.status not in UNPAID:
        return donation
    try:
        status = channel_get(donation.channel).query(donation.out_trade_no)
    except (KeyError, PaymentError) as exc:
        logger.info(
            "query of %s at %s failed: %s", donation.out_trade_no, donation.channel, type(exc).__name__
        )
        return donation
    Donation.objects.filter(pk=donation.pk).update(checked_at=timezone.now())
    if status.state in {TradeState.PAID, TradeState.REFUNDED} and status.paid_at is not None:
        payment = VerifiedPayment(
            channel=donation.channel,
            out_trade_no=donation.out_trade_no,
            channel_txn_id=status.channel_txn_id,
            amount_fen=status.amount_fen,
            paid_at=status.paid_at,
            payer_ref="",
        )
        try:
            payment_record(payment, source="query")
        except Rejected as exc:
            rejection_record(
                channel=donation.channel,
                reason=exc.reason,
                detail=f"query: {exc.detail}",
                out_trade_no=donation.out_trade_no,
            )
    donation.refresh_from_db()
    return donation


@dataclass
class SweepResult:
    queried: int = 0
    paid: int = 0
    expired: int = 0
    closed: int = 0


# Orders are asked about at most this often, and first this long after creation
# (the notification usually arrives within seconds).
QUERY_EVERY = timedelta(minutes=2)
SWEEP_BATCH = 200


def donations_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Settle orders in an unknown state: ask the channel; expire what is past its time.

    Safe to run twice at once: every change is a conditional update or goes
    through payment_record's row lock.
    """
    now = now or timezone.now()
    result = SweepResult()
    due = (
        Donation.objects.filter(status__in=UNPAID, created_at__lte=now - QUERY_EVERY)
        .exclude(checked_at__gt=now - QUERY_EVERY)
        .select_related("project")
        .order_by("created_at")[:batch]
    )
    for donation in due:
        result.queried += 1
        donation = donation_refresh(donation)
        if donation.is_paid:
            result.paid += 1
            continue
        if donation.status in UNPAID and donation.expires_at <= now:
            result.expired += _expire(donation)
    return result


def _expire(donation: Donation) -> int:
    """Close the order at the channel, then mark it expired (only if still unpaid)."""
    try:
        channel_get(donation.channel).close(donation.out_trade_no)
    except PermanentChannelError:
        # Unknown to the channel (never checked out), or already closed there.
        pass
    except (KeyError, PaymentError):
        return 0  # try again next sweep
    return Donation.objects.filter(pk=donation.pk, status__in=UNPAID).update(status=D.EXPIRED)


def nonces_purge(*, now: datetime | None = None) -> int:
    """Forget nonces older than a day: the channels' 5-minute window refuses them anyway."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _rows = NotificationNonce.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def issuing_branch(branch: Branch) -> Branch:
    """The branch whose name and code go on a receipt: the nearest district or city society
    at or above `branch` (streets, communities and institutions issue none of their own)."""
    from rendao.core.models import Branch

    if branch.kind in {Branch.Kind.CITY, Branch.Kind.DISTRICT}:
        return branch
    # Ancestors by materialized-path prefix: one query, nearest first.
    prefixes = [branch.path[:end] for end in range(Branch.steplen, len(branch.path), Branch.steplen)]
    found: Branch | None = (
        Branch.objects.filter(path__in=prefixes, kind__in=[Branch.Kind.CITY, Branch.Kind.DISTRICT])
        .order_by("-depth")
        .first()
    )
    return found or branch
