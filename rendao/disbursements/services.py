"""Writes of disbursements (资金拨付): request, the approval engine's callbacks, cancel, payments, sign-off.

Every write is one transaction with its audit row; money is integer fen.

Locks, always in this order: the disbursement row, then the fund account (and
`journal_post` then locks the accounts it posts to, in id order; the fund is
already held). A request locks the fund account only (its disbursement row does
not exist yet). The approvals engine locks its request row before calling back
here, and nothing here locks an approval request, so no two writers wait on
each other in opposite orders.

Reservation: a request adds its amount to the fund's `reserved_fen`; a payment
moves money out of the reservation (lowers `reserved_fen` by the amount, then
posts the journal entry that lowers the balance); a rejection, a withdrawal, a
cancellation or closing short releases what is still unpaid. So
`balance_fen − reserved_fen` is what can still be promised or refunded.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.approvals import registry
from rendao.approvals.services import request_submit
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope, require_perm
from rendao.core.services.outbox import message_enqueue
from rendao.disbursements.models import (
    RESERVING,
    Category,
    Disbursement,
    DisbursementEvent,
    Payment,
    Signoff,
    SignoffKind,
    Status,
)
from rendao.funds.accounting import account_open, journal_post
from rendao.funds.models import Account
from rendao.ledger.models import EntryKind
from rendao.ledger.services import ledger_append

if TYPE_CHECKING:
    from rendao.approvals.models import ApprovalRequest
    from rendao.core.models import Branch, User
    from rendao.recipients.models import Institution
    from rendao.uploads.models import Attachment

PROCESS_TYPE = "disbursement"
SIGNOFF_SALT = "rendao.disbursements.signoff"
PURPOSE_MAX = 300
NOTE_MAX = 300
SIGNOFF_NOTE_MAX = 500
BANK_ACCOUNT_MAX = 100
# A bank's transfer reference: letters, digits and the separators banks print.
BANK_REFERENCE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-/.]{0,63}$")
FUND_KINDS = (Account.Kind.RESTRICTED_FUND, Account.Kind.GENERAL_FUND)
S = Status


def yuan(fen: int) -> str:
    """12345 → "123.45" (integer arithmetic only)."""
    whole, cents = divmod(int(fen), 100)
    return f"{whole:,}.{cents:02d}"


def _is_fen(value: object) -> bool:
    # bool is an int subclass; a float or Decimal means yuan leaked in somewhere.
    return type(value) is int


def _snapshot(d: Disbursement) -> dict[str, Any]:
    return {"status": d.status, "amount_fen": d.amount_fen, "paid_fen": d.paid_fen, "number": d.number}


def _event(
    d: Disbursement,
    *,
    frm: str,
    to: str,
    actor: User | None,
    now: datetime,
    note: str = "",
    ledger_index: int | None = None,
) -> DisbursementEvent:
    return DisbursementEvent.objects.create(
        disbursement=d,
        from_status=frm,
        to_status=to,
        actor=actor,
        note=note[:NOTE_MAX],
        ledger_index=ledger_index,
        at=now,
    )


def _locked(d: Disbursement) -> Disbursement:
    # of=self: the related rows read along are not locked (PostgreSQL would lock them too).
    return (
        Disbursement.objects.select_for_update(of=("self",))
        .select_related("branch", "fund", "payee", "project")
        .get(pk=d.pk)
    )


def _release(d: Disbursement, amount_fen: int) -> None:
    """Give `amount_fen` of the fund's reservation back (caller holds the disbursement lock)."""
    if amount_fen <= 0:
        return
    # An UPDATE locks the row itself; the disbursement lock is already held.
    Account.objects.filter(pk=d.fund_id).update(reserved_fen=F("reserved_fen") - amount_fen)


# --- request ---------------------------------------------------------------------------


def _check_request_input(
    *,
    actor: User,
    fund: Account,
    payee: Institution,
    amount_fen: object,
    purpose: str,
    category: str,
    payee_bank_account: str,
    documents: Iterable[Attachment],
) -> None:
    errors: dict[str, str] = {}
    if not _is_fen(amount_fen) or amount_fen <= 0:  # type: ignore[operator]
        errors["amount_fen"] = _("The amount must be a whole number of fen above zero.")
    if not purpose:
        errors["purpose"] = _("Say what the money is for.")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = _("The purpose is too long (at most 300 characters).")
    if category not in Category.values:
        errors["category"] = _("Choose a category.")
    if not payee_bank_account:
        errors["payee_bank_account"] = _("Give the payee's bank account.")
    elif len(payee_bank_account) > BANK_ACCOUNT_MAX:
        errors["payee_bank_account"] = _("The bank account is too long (at most 100 characters).")
    if fund.kind not in FUND_KINDS or not fund.is_active:
        errors["fund"] = _("Money can only be paid out of an open project fund or general fund.")
    if not payee.is_active:
        errors["payee"] = _("This institution is no longer active.")
    elif not in_scope(actor, Perm.FINANCE_MANAGE, payee.branch):
        errors["payee"] = _("Choose a payee institution of a branch you manage the finances of.")
    for doc in documents:
        if doc.owner_id != actor.pk and not (
            doc.branch is not None and in_scope(actor, Perm.FINANCE_MANAGE, doc.branch)
        ):
            errors["documents"] = _("A supporting document is not one you may attach.")
    if errors:
        raise ValidationError(errors)


def disbursement_request(
    *,
    actor: User,
    fund: Account,
    payee: Institution,
    amount_fen: int,
    purpose: str,
    category: str,
    payee_bank_account: str,
    documents: Iterable[Attachment] = (),
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Disbursement:
    """Ask to pay `amount_fen` out of `fund` to `payee`: reserve it and submit it for approval."""
    require_perm(actor, Perm.FINANCE_MANAGE, fund.branch)
    purpose = (purpose or "").strip()
    payee_bank_account = (payee_bank_account or "").strip()
    documents = list(documents)
    _check_request_input(
        actor=actor,
        fund=fund,
        payee=payee,
        amount_fen=amount_fen,
        purpose=purpose,
        category=category,
        payee_bank_account=payee_bank_account,
        documents=documents,
    )
    now = now or timezone.now()
    with transaction.atomic():
        # The fund's row lock serialises every request, payment and refund on it,
        # so two requests can never both see the same money as available.
        locked = Account.objects.select_for_update(of=("self",)).select_related("branch").get(pk=fund.pk)
        available = locked.balance_fen - locked.reserved_fen
        if amount_fen > available:
            raise ValidationError(
                {
                    "amount_fen": _(
                        "Only %(available)s yuan of %(fund)s is available (balance less what is "
                        "already promised to other disbursements)."
                    )
                    % {"available": yuan(max(available, 0)), "fund": locked.name}
                },
                code="over_available",
            )
        Account.objects.filter(pk=locked.pk).update(reserved_fen=F("reserved_fen") + amount_fen)
        d = Disbursement(
            # A unique placeholder until the row has its id, which the number is made of.
            number=f"T{secrets.token_hex(8)}",
            branch=locked.branch,
            fund=locked,
            project_id=locked.project_id,
            payee=payee,
            related_party=payee.related_party,
            amount_fen=amount_fen,
            purpose=purpose,
            category=category,
            payee_bank_account=payee_bank_account,
            status=S.REQUESTED,
            requested_by=actor,
            requested_at=now,
        )
        d.save(force_insert=True)
        d.number = f"ZB-{timezone.localdate(now).year}-{d.pk:06d}"
        Disbursement.objects.filter(pk=d.pk).update(number=d.number)
        if documents:
            d.documents.set(documents)
        _event(d, frm="", to=S.REQUESTED, actor=actor, now=now)
        audit_record(
            actor=actor,
            action="disbursement.request",
            obj=d,
            branch=d.branch,
            after={
                **_snapshot(d),
                "fund": locked.code,
                "payee_id": payee.pk,
                "category": category,
                "reserved_after_fen": locked.reserved_fen + amount_fen,
            },
            meta=meta,
        )
        request = request_submit(actor=actor, process_type=PROCESS_TYPE, obj=d, meta=meta, now=now)
        d.approval_request = request
        d.save(update_fields=["approval_request"])
    return d


# --- the approvals engine's side ---------------------------------------------------------


def allocation_payload(d: Disbursement) -> dict[str, object]:
    """The "allocation" leaf: what was promised to whom, no personal data."""
    return {
        "disbursement": d.number,
        "project": d.project_id,
        "fund": d.fund.code,
        "payee": d.payee.name,
        "category": d.category,
        "amount_fen": d.amount_fen,
        "related_party": d.related_party,
    }


def _refuse_engine(d: Disbursement, to: str) -> ValidationError:
    return ValidationError(
        _("Disbursement %(number)s is “%(status)s” and cannot become “%(to)s”.")
        % {"number": d.number, "status": Status(d.status).label, "to": Status(to).label}
    )


def on_approved(d: Disbursement, request: ApprovalRequest) -> None:
    locked = _locked(d)
    if locked.status != S.REQUESTED:
        raise _refuse_engine(locked, S.APPROVED)
    now = request.updated_at or timezone.now()
    entry = ledger_append(kind=EntryKind.ALLOCATION, payload=allocation_payload(locked), occurred_at=now)
    before = _snapshot(locked)
    locked.status = S.APPROVED
    locked.save(update_fields=["status"])
    _event(
        locked,
        frm=S.REQUESTED,
        to=S.APPROVED,
        actor=None,
        now=now,
        note=f"approval #{request.pk}",
        ledger_index=entry.index,
    )
    audit_record(
        actor=None,
        actor_label="system:approvals",
        action="disbursement.approved",
        obj=locked,
        branch=locked.branch,
        before=before,
        after={**_snapshot(locked), "ledger_index": entry.index},
    )


def _engine_close(to: Status) -> registry.Callback:
    def callback(d: Disbursement, request: ApprovalRequest) -> None:
        locked = _locked(d)
        if locked.status != S.REQUESTED:
            raise _refuse_engine(locked, to)
        now = request.updated_at or timezone.now()
        before = _snapshot(locked)
        _release(locked, locked.outstanding_fen)
        locked.status = to
        locked.save(update_fields=["status"])
        _event(locked, frm=S.REQUESTED, to=to, actor=None, now=now, note=f"approval #{request.pk}")
        audit_record(
            actor=None,
            actor_label="system:approvals",
            action=f"disbursement.{to}",
            obj=locked,
            branch=locked.branch,
            before=before,
            after={**_snapshot(locked), "released_fen": locked.outstanding_fen},
        )

    return callback


on_rejected = _engine_close(S.REJECTED)
on_withdrawn = _engine_close(S.WITHDRAWN)


def register_process_type() -> None:
    """Called from DisbursementsConfig.ready(); the default flow is seeded by migration 0003."""
    registry.register(
        registry.ProcessType(
            key=PROCESS_TYPE,
            label=gettext_lazy("Disbursement"),
            model=Disbursement,
            branch_of=lambda d: d.branch,
            # The engine's two-person rule looks at this amount.
            amount_of=lambda d: d.amount_fen,
            title_of=lambda d: f"{d.number} {d.purpose}",
            on_approved=on_approved,
            on_rejected=on_rejected,
            on_withdrawn=on_withdrawn,
            url_of=lambda d: reverse("disbursements:detail", kwargs={"number": d.number}),
        )
    )


# --- cancel ------------------------------------------------------------------------------


def disbursement_cancel(
    *,
    actor: User,
    disbursement: Disbursement,
    reason: str,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Disbursement:
    """Stop an approved disbursement and release what is still reserved.

    Nothing paid yet (APPROVED): it becomes CANCELLED. Partly paid: it is closed
    short — the unpaid remainder is released and it becomes PAID, awaiting the
    payee's confirmation of what did arrive. A request still in approval is
    withdrawn through the approvals engine instead.
    """
    require_perm(actor, Perm.FINANCE_MANAGE, disbursement.branch)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the disbursement is stopped.")})
    if len(reason) > NOTE_MAX:
        raise ValidationError({"reason": _("The reason is too long (at most 300 characters).")})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(disbursement)
        if locked.status not in (S.APPROVED, S.PARTLY_PAID):
            raise ValidationError(
                _("Only an approved disbursement that is not fully paid can be cancelled or closed short.")
            )
        before = _snapshot(locked)
        frm = locked.status
        released = locked.outstanding_fen
        _release(locked, released)
        to = S.CANCELLED if locked.paid_fen == 0 else S.PAID
        locked.status = to
        locked.save(update_fields=["status"])
        note = (
            reason
            if to == S.CANCELLED
            else _("Closed short, %(yuan)s yuan released: %(reason)s")
            % {
                "yuan": yuan(released),
                "reason": reason,
            }
        )
        _event(locked, frm=frm, to=to, actor=actor, now=now, note=note)
        audit_record(
            actor=actor,
            action="disbursement.cancel" if to == S.CANCELLED else "disbursement.close_short",
            obj=locked,
            branch=locked.branch,
            before=before,
            after={**_snapshot(locked), "released_fen": released, "reason": reason},
            meta=meta,
        )
    disbursement.refresh_from_db()
    return locked


# --- payments ------------------------------------------------------------------------------


def bank_account_code(branch: Branch) -> str:
    return f"BANK-{branch.pk}"


def _bank_account(branch: Branch, *, actor: User | None) -> Account:
    """The branch's bank account, opened on first use."""
    code = bank_account_code(branch)
    existing = Account.objects.filter(code=code).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return account_open(
                code=code,
                name=(_("Bank account of %(branch)s") % {"branch": branch.name})[:200],
                kind=Account.Kind.BANK,
                branch=branch,
                actor=actor,
            )
    except (ValidationError, IntegrityError):
        # Opened concurrently: what we wanted exists now.
        return Account.objects.get(code=code)


def disbursement_payload(d: Disbursement, payment: Payment) -> dict[str, object]:
    """The "disbursement" leaf: one bank transfer, no personal data."""
    return {
        "disbursement": d.number,
        # "transfer", not "bank_reference": leaf keys naming a bank read as personal
        # data to the leaf guard; this is the bank's reference of an organisation's transfer.
        "transfer": payment.bank_reference,
        "amount_fen": payment.amount_fen,
        "paid_on": payment.paid_on.isoformat(),
        "payee": d.payee.name,
        "project": d.project_id,
    }


def _replayed(existing: Payment, d: Disbursement, amount_fen: int) -> Payment:
    if existing.disbursement_id == d.pk and existing.amount_fen == amount_fen:
        return existing
    raise ValidationError(
        {"bank_reference": _("This bank reference is already recorded for another payment.")},
        code="reference_taken",
    )


def _check_payment_input(*, bank_reference: str, paid_on: object, amount_fen: object, today: date) -> None:
    errors: dict[str, str] = {}
    if not BANK_REFERENCE_RE.match(bank_reference):
        errors["bank_reference"] = _(
            "Give the bank's reference of the transfer: 1–64 letters, digits, and - _ / ."
        )
    if not isinstance(paid_on, date) or isinstance(paid_on, datetime):
        errors["paid_on"] = _("Give the day of the transfer.")
    elif paid_on > today:
        errors["paid_on"] = _("The day of the transfer cannot be in the future.")
    if not _is_fen(amount_fen) or amount_fen <= 0:  # type: ignore[operator]
        errors["amount_fen"] = _("The amount must be a whole number of fen above zero.")
    if errors:
        raise ValidationError(errors)


def payment_record(
    *,
    actor: User,
    disbursement: Disbursement,
    bank_reference: str,
    paid_on: date,
    amount_fen: int,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Payment:
    """Record a bank transfer made against an approved disbursement (partial payments allowed).

    Idempotent by the bank reference: the same reference, disbursement and amount
    return the payment already recorded; the reference with anything else is refused.
    """
    require_perm(actor, Perm.FINANCE_MANAGE, disbursement.branch)
    bank_reference = (bank_reference or "").strip()
    now = now or timezone.now()
    _check_payment_input(
        bank_reference=bank_reference, paid_on=paid_on, amount_fen=amount_fen, today=timezone.localdate(now)
    )
    existing = Payment.objects.filter(bank_reference=bank_reference).first()
    if existing is not None:
        return _replayed(existing, disbursement, amount_fen)
    try:
        with transaction.atomic():
            return _record_locked(
                actor=actor,
                disbursement=disbursement,
                bank_reference=bank_reference,
                paid_on=paid_on,
                amount_fen=amount_fen,
                meta=meta,
                now=now,
            )
    except IntegrityError:
        # The same reference recorded concurrently: answer as a replay would.
        existing = Payment.objects.filter(bank_reference=bank_reference).first()
        if existing is None:
            raise
        return _replayed(existing, disbursement, amount_fen)


def _record_locked(
    *,
    actor: User,
    disbursement: Disbursement,
    bank_reference: str,
    paid_on: date,
    amount_fen: int,
    meta: RequestMeta | None,
    now: datetime,
) -> Payment:
    locked = _locked(disbursement)
    # Re-read under the lock: a concurrent replay may have landed meanwhile.
    existing = Payment.objects.filter(bank_reference=bank_reference).first()
    if existing is not None:
        return _replayed(existing, locked, amount_fen)
    if locked.status not in (S.APPROVED, S.PARTLY_PAID):
        raise ValidationError(_("Only an approved disbursement that is not fully paid can be paid."))
    if amount_fen > locked.outstanding_fen:
        raise ValidationError(
            {
                "amount_fen": _("At most %(left)s yuan of this disbursement is still to be paid.")
                % {"left": yuan(locked.outstanding_fen)}
            },
            code="over_payment",
        )
    bank = _bank_account(locked.branch, actor=actor)
    fund = Account.objects.select_for_update(of=("self",)).get(pk=locked.fund_id)
    # Out of the reservation first: journal_post keeps a restricted fund at or
    # above its reserved amount, and this payment is what the reservation was for.
    fund.reserved_fen -= amount_fen
    Account.objects.filter(pk=fund.pk).update(reserved_fen=F("reserved_fen") - amount_fen)
    entry = journal_post(
        lines=[(fund, amount_fen, 0), (bank, 0, amount_fen)],
        reference=f"{locked.number}:{bank_reference}"[:100],
        reason=f"disbursement {locked.number}",
        actor=actor,
    )
    payment = Payment(
        disbursement=locked,
        bank_reference=bank_reference,
        paid_on=paid_on,
        amount_fen=amount_fen,
        journal_entry=entry,
        ledger_index=0,
        recorded_by=actor,
        recorded_at=now,
    )
    leaf = ledger_append(
        kind=EntryKind.DISBURSEMENT, payload=disbursement_payload(locked, payment), occurred_at=now
    )
    payment.ledger_index = leaf.index
    payment.save(force_insert=True)
    before = _snapshot(locked)
    frm = locked.status
    locked.paid_fen += amount_fen
    locked.status = S.PAID if locked.paid_fen == locked.amount_fen else S.PARTLY_PAID
    locked.save(update_fields=["paid_fen", "status"])
    _event(
        locked,
        frm=frm,
        to=locked.status,
        actor=actor,
        now=now,
        note=_("Paid %(yuan)s yuan, bank reference %(ref)s")
        % {"yuan": yuan(amount_fen), "ref": bank_reference},
        ledger_index=leaf.index,
    )
    audit_record(
        actor=actor,
        action="disbursement.payment",
        obj=locked,
        branch=locked.branch,
        before=before,
        after={
            **_snapshot(locked),
            "bank_reference": bank_reference,
            "payment_fen": amount_fen,
            "journal_entry": entry.pk,
            "ledger_index": leaf.index,
        },
        meta=meta,
    )
    if locked.project is not None:
        from rendao.feedback.models import UseKind
        from rendao.feedback.services import use_report_record

        use_report_record(
            project=locked.project,
            kind=UseKind.MONEY,
            source=f"disbursement-payment:{bank_reference}",
            amount_fen=amount_fen,
            recipient=locked.payee.name,
            purpose=locked.purpose,
            ledger_index=leaf.index,
            occurred_at=now,
        )
    _notify_payee(locked, payment)
    return payment


def _notify_payee(d: Disbursement, payment: Payment) -> int:
    """Tell the payee's representatives what was sent, with their sign-off link (outbox: after commit)."""
    from rendao.core.models import User

    users = User.objects.filter(institution_memberships__institution_id=d.payee_id, is_active=True).order_by(
        "pk"
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Payment sent: %(number)s") % {"number": d.number}
        body = _(
            "%(org)s has transferred %(yuan)s yuan to %(payee)s for “%(purpose)s” (bank reference %(ref)s, "
            "%(day)s). Please confirm what arrived: %(url)s"
        ) % {
            "org": d.branch.name,
            "yuan": yuan(payment.amount_fen),
            "payee": d.payee.name,
            "purpose": d.purpose,
            "ref": payment.bank_reference,
            "day": payment.paid_on.isoformat(),
            "url": signoff_url(d),
        }
    sent = 0
    for user in users[:100]:
        channel, recipient = ("email", user.email) if user.email else ("console", user.get_username())
        message_enqueue(
            channel=channel,
            recipient=recipient,
            kind="disbursement.paid",
            subject=subject,
            body=body,
            user=user,
            branch=d.branch,
        )
        sent += 1
    return sent


# --- the payee's sign-off ----------------------------------------------------------------------


def _signoff_max_age() -> int:
    days = int(settings.DISBURSEMENT_SIGNOFF_DAYS)
    return days * 24 * 3600


def signoff_token(d: Disbursement) -> str:
    return signing.dumps({"n": d.number, "p": d.payee_id}, salt=SIGNOFF_SALT, compress=True)


def signoff_url(d: Disbursement) -> str:
    """The signed link the payee's representatives open to confirm or dispute receipt."""
    return settings.SITE_URL + reverse("disbursements:signoff", kwargs={"token": signoff_token(d)})


def signoff_token_read(token: str) -> tuple[str, int]:
    """(number, payee id) of a valid link; ValidationError for a forged or expired one."""
    try:
        data = signing.loads(token, salt=SIGNOFF_SALT, max_age=_signoff_max_age())
    except signing.SignatureExpired as exc:
        raise ValidationError(_("This sign-off link has expired: ask the society for a new one.")) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This sign-off link is not valid.")) from exc
    if (
        not isinstance(data, Mapping)
        or not isinstance(data.get("n"), str)
        or not isinstance(data.get("p"), int)
    ):
        raise ValidationError(_("This sign-off link is not valid."))
    return data["n"], data["p"]


def is_representative(user: User, d: Disbursement) -> bool:
    from rendao.recipients.models import InstitutionMember

    return (
        user.is_authenticated
        and user.is_active
        and InstitutionMember.objects.filter(institution_id=d.payee_id, user=user).exists()
    )


def signoff_payload(d: Disbursement, s: Signoff) -> dict[str, object]:
    """The "recipient_signoff" leaf: the payee's word, never who signed."""
    return {
        "disbursement": d.number,
        "signoff": s.kind,
        "received_fen": s.received_fen,
        "paid_fen": d.paid_fen,
        "payee": d.payee.name,
        "project": d.project_id,
        "by_staff_upload": s.by_staff_upload,
    }


def _signoff(
    locked: Disbursement,
    *,
    kind: SignoffKind,
    to: Status,
    actor: User,
    received_fen: int | None,
    note: str,
    now: datetime,
    meta: RequestMeta | None,
    form: Attachment | None = None,
) -> Signoff:
    s = Signoff(
        disbursement=locked,
        kind=kind,
        received_fen=received_fen,
        note=note,
        signed_by=actor,
        by_staff_upload=form is not None,
        form=form,
        ledger_index=0,
        at=now,
    )
    leaf = ledger_append(
        kind=EntryKind.RECIPIENT_SIGNOFF, payload=signoff_payload(locked, s), occurred_at=now
    )
    s.ledger_index = leaf.index
    s.save(force_insert=True)
    before = _snapshot(locked)
    frm = locked.status
    locked.status = to
    if kind != SignoffKind.RESOLVED:
        locked.signed_off_at = now
    locked.save(update_fields=["status", "signed_off_at"])
    _event(locked, frm=frm, to=to, actor=actor, now=now, note=note, ledger_index=leaf.index)
    audit_record(
        actor=actor,
        action=f"disbursement.signoff.{kind}",
        obj=locked,
        branch=locked.branch,
        before=before,
        after={
            **_snapshot(locked),
            "received_fen": received_fen,
            "ledger_index": leaf.index,
            "by_staff_upload": form is not None,
        },
        meta=meta,
    )
    return s


def _clean_note(note: str, *, required: bool, message: str) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": message})
    if len(note) > SIGNOFF_NOTE_MAX:
        raise ValidationError({"note": _("The note is too long (at most 500 characters).")})
    return note


def _check_received(received_fen: object, paid_fen: int) -> int:
    if not _is_fen(received_fen) or received_fen < 0:  # type: ignore[operator]
        raise ValidationError({"received_fen": _("Give the amount received in whole fen.")})
    if received_fen != paid_fen:
        raise ValidationError(
            {
                "received_fen": _(
                    "%(yuan)s yuan was paid. If a different amount arrived, dispute the payment instead."
                )
                % {"yuan": yuan(paid_fen)}
            }
        )
    return int(received_fen)


def _require_paid(locked: Disbursement) -> None:
    if locked.status != S.PAID:
        raise ValidationError(
            _("Receipt can be confirmed or disputed only once the disbursement is fully paid.")
        )


def signoff_confirm(
    *,
    actor: User,
    disbursement: Disbursement,
    received_fen: int,
    note: str = "",
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Signoff:
    """The payee's representative confirms that the paid amount arrived."""
    if not is_representative(actor, disbursement):
        raise PermissionDenied(_("Only the payee's representatives can sign this."))
    note = _clean_note(note, required=False, message="")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(disbursement)
        _require_paid(locked)
        received = _check_received(received_fen, locked.paid_fen)
        s = _signoff(
            locked,
            kind=SignoffKind.CONFIRMED,
            to=S.SIGNED_OFF,
            actor=actor,
            received_fen=received,
            note=note,
            now=now,
            meta=meta,
        )
    disbursement.refresh_from_db()
    return s


def signoff_dispute(
    *,
    actor: User,
    disbursement: Disbursement,
    note: str,
    received_fen: int | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Signoff:
    """The payee's representative says what arrived differs (or nothing did)."""
    if not is_representative(actor, disbursement):
        raise PermissionDenied(_("Only the payee's representatives can sign this."))
    note = _clean_note(note, required=True, message=_("Say what is wrong with the payment."))
    if received_fen is not None and (not _is_fen(received_fen) or received_fen < 0):
        raise ValidationError({"received_fen": _("Give the amount received in whole fen.")})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(disbursement)
        _require_paid(locked)
        s = _signoff(
            locked,
            kind=SignoffKind.DISPUTED,
            to=S.DISPUTED,
            actor=actor,
            received_fen=received_fen,
            note=note,
            now=now,
            meta=meta,
        )
    disbursement.refresh_from_db()
    return s


def signoff_resolve(
    *,
    actor: User,
    disbursement: Disbursement,
    note: str,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Signoff:
    """Finance settles a dispute: the disbursement is PAID again, awaiting a new confirmation."""
    require_perm(actor, Perm.FINANCE_MANAGE, disbursement.branch)
    note = _clean_note(note, required=True, message=_("Say how the dispute was settled."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(disbursement)
        if locked.status != S.DISPUTED:
            raise ValidationError(_("Only a disputed disbursement can be resolved."))
        s = _signoff(
            locked,
            kind=SignoffKind.RESOLVED,
            to=S.PAID,
            actor=actor,
            received_fen=None,
            note=note,
            now=now,
            meta=meta,
        )
    disbursement.refresh_from_db()
    return s


def signoff_upload(
    *,
    actor: User,
    disbursement: Disbursement,
    form: Attachment,
    received_fen: int,
    note: str = "",
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Signoff:
    """Finance files the payee's signed paper confirmation in place of the link."""
    from rendao.disbursements.upload_purposes import SIGNOFF_FORM

    require_perm(actor, Perm.FINANCE_MANAGE, disbursement.branch)
    if form.purpose != SIGNOFF_FORM or form.owner_id != actor.pk:
        raise ValidationError({"form": _("Upload the payee's signed form here.")})
    note = _clean_note(note, required=False, message="")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(disbursement)
        _require_paid(locked)
        received = _check_received(received_fen, locked.paid_fen)
        s = _signoff(
            locked,
            kind=SignoffKind.CONFIRMED,
            to=S.SIGNED_OFF,
            actor=actor,
            received_fen=received,
            note=note,
            now=now,
            meta=meta,
            form=form,
        )
    disbursement.refresh_from_db()
    return s


__all__ = [
    "RESERVING",
    "disbursement_cancel",
    "disbursement_request",
    "payment_record",
    "signoff_confirm",
    "signoff_dispute",
    "signoff_resolve",
    "signoff_upload",
    "signoff_url",
]
