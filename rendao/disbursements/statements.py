"""Bank statements: importing a branch's account statement and matching it with the payments.

Finance records each bank transfer of a disbursement (`Payment`, with the bank's
reference) when it is made; the bank's statement later says what really left the
account. `statement_import` reads the file (rendao.disbursements.statement_formats),
matches every outgoing line by reference with the payments of disbursements of
the branch's subtree and reports five kinds of difference (`DifferenceKind`):

- unknown_reference: a transfer on the statement with no payment of this subtree
  recorded under its reference (a payment of another branch counts as unknown:
  references are not a way to learn about other branches);
- amount_mismatch: the reference is ours, the amount is not the one recorded; the
  payment is not confirmed;
- date_mismatch: the bank booked the transfer on another day than recorded; the
  payment is still confirmed (the money did leave under that reference), the
  difference is shown for finance to look at;
- duplicate_reference: the reference appears again on the statement (only its
  first line is matched);
- not_on_statement: a payment of the subtree recorded in the statement's period,
  not on the statement and not confirmed by an earlier statement.

A line that agrees confirms its payment (`Payment.confirmed_by_statement`, once:
a later statement covering the same day does not confirm it again) with a
"payout_confirmed" log leaf; the statement itself gets a "reconciliation" leaf of
counts and totals only. Lines, differences, confirmations, leaves and the audit
row are written in one transaction; the same file imported again returns the
statement already stored and changes nothing. A file that cannot be read is
refused whole, nothing stored. Nothing else is changed: differences are resolved
by hand with a note (`statement_difference_resolve`), see docs/bank-statements.md.

Importing needs FINANCE_MANAGE at the statement's branch, reading FINANCE_VIEW there.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope, in_scope, scope_filter
from rendao.disbursements.models import (
    DifferenceKind,
    Payment,
    Statement,
    StatementDifference,
    StatementLine,
)
from rendao.disbursements.statement_formats import ParsedLine, parse_statement
from rendao.ledger.services import ledger_append

K = DifferenceKind
T = TypeVar("T")
RESOLUTION_MAX = 300


# --- comparing (plain data in, plain data out) ----------------------------------------


@dataclass(frozen=True)
class Recorded:
    """A payment as we recorded it, as far as matching needs it."""

    pk: int
    bank_reference: str
    amount_fen: int
    paid_on: date
    confirmed: bool


@dataclass(frozen=True)
class Found:
    kind: str
    line_no: int | None = None
    payment: int | None = None
    reference: str = ""
    statement_fen: int | None = None
    recorded_fen: int | None = None


@dataclass
class Matching:
    # line_no → payment pk: the line carries this reference of ours.
    links: dict[int, int] = field(default_factory=dict)
    # line_no → payment pk: payments this statement confirms now.
    confirms: dict[int, int] = field(default_factory=dict)
    matched: int = 0
    differences: list[Found] = field(default_factory=list)


def compare(lines: list[ParsedLine], by_reference: dict[str, Recorded], missing: list[Recorded]) -> Matching:
    """Match the statement's lines with our payments by reference.

    `by_reference` holds our payments (of the subtree) whose reference is on the
    statement; `missing` the payments of the period whose reference is not.
    """
    result = Matching()
    seen: set[str] = set()
    for line in lines:
        if line.reference in seen:
            result.differences.append(
                Found(
                    K.DUPLICATE_REFERENCE,
                    line.line_no,
                    reference=line.reference,
                    statement_fen=line.amount_fen,
                )
            )
            continue
        seen.add(line.reference)
        payment = by_reference.get(line.reference)
        if payment is None:
            result.differences.append(
                Found(
                    K.UNKNOWN_REFERENCE, line.line_no, reference=line.reference, statement_fen=line.amount_fen
                )
            )
            continue
        result.links[line.line_no] = payment.pk
        if payment.amount_fen != line.amount_fen:
            result.differences.append(
                Found(
                    K.AMOUNT_MISMATCH,
                    line.line_no,
                    payment.pk,
                    line.reference,
                    statement_fen=line.amount_fen,
                    recorded_fen=payment.amount_fen,
                )
            )
            continue
        result.matched += 1
        if not payment.confirmed:
            result.confirms[line.line_no] = payment.pk
        if payment.paid_on != line.booked_on:
            result.differences.append(
                Found(
                    K.DATE_MISMATCH,
                    line.line_no,
                    payment.pk,
                    line.reference,
                    statement_fen=line.amount_fen,
                    recorded_fen=payment.amount_fen,
                )
            )
    for payment in missing:
        result.differences.append(
            Found(
                K.NOT_ON_STATEMENT, None, payment.pk, payment.bank_reference, recorded_fen=payment.amount_fen
            )
        )
    return result


# --- the services ---------------------------------------------------------------------


BATCH = 500


def _batches(values: list[T]) -> list[list[T]]:
    return [values[i : i + BATCH] for i in range(0, len(values), BATCH)]


def _subtree_payments(branch: Branch) -> QuerySet[Payment]:
    return Payment.objects.filter(disbursement__branch__path__startswith=branch.path)


def _recorded(rows: QuerySet[Payment]) -> list[Recorded]:
    return [
        Recorded(pk, reference, amount, paid_on, confirmed is not None)
        for pk, reference, amount, paid_on, confirmed in rows.order_by("paid_on", "id").values_list(
            "pk", "bank_reference", "amount_fen", "paid_on", "confirmed_by_statement"
        )
    ]


def _period(lines: list[ParsedLine], start: date | None, end: date | None) -> tuple[date, date]:
    if lines:
        start = start or min(line.booked_on for line in lines)
        end = end or max(line.booked_on for line in lines)
    if start is None or end is None:
        raise ValidationError(
            {
                "file": _(
                    "The statement lists no outgoing transfers; give its period to check for missing ones."
                )
            },
            code="statement_no_outgoing",
        )
    if start > end:
        raise ValidationError({"period_end": _("The period ends before it starts.")}, code="period")
    for line in lines:
        if not start <= line.booked_on <= end:
            raise ValidationError(
                {
                    "file": _("Line %(line)s of the statement is dated %(date)s, outside the period given.")
                    % {"line": line.line_no, "date": line.booked_on.isoformat()}
                },
                code="statement_outside_period",
            )
    return start, end


def statement_import(
    *,
    actor: User,
    branch: Branch,
    filename: str,
    content: bytes,
    period_start: date | None = None,
    period_end: date | None = None,
    meta: RequestMeta | None = None,
) -> Statement:
    """Import a bank statement of `branch`; see `statement_import_outcome`."""
    statement, _created = statement_import_outcome(
        actor=actor,
        branch=branch,
        filename=filename,
        content=content,
        period_start=period_start,
        period_end=period_end,
        meta=meta,
    )
    return statement


def statement_import_outcome(
    *,
    actor: User,
    branch: Branch,
    filename: str,
    content: bytes,
    period_start: date | None = None,
    period_end: date | None = None,
    meta: RequestMeta | None = None,
) -> tuple[Statement, bool]:
    """Import a bank statement of `branch` and match it with the recorded payments.

    Raises PermissionDenied (no FINANCE_MANAGE at the branch) or ValidationError
    (a file that cannot be read, a line outside the period, the same file already
    imported for another branch); nothing is stored then. The same file again
    returns the statement already stored (created False).
    """
    if not in_scope(actor, Perm.FINANCE_MANAGE, branch):
        raise PermissionDenied(_("Only finance staff of this branch import its bank statements."))
    sha256 = hashlib.sha256(content).hexdigest()
    existing = Statement.objects.filter(sha256=sha256).first()
    if existing is not None:
        return _already(existing, branch), False
    parsed = parse_statement(content)
    start, end = _period(parsed.lines, period_start, period_end)
    try:
        with transaction.atomic():
            stored = _store(
                actor=actor,
                branch=branch,
                filename=filename,
                sha256=sha256,
                lines=parsed.lines,
                start=start,
                end=end,
                meta=meta,
            )
    except IntegrityError:
        # The same file imported at the same moment by another request: theirs stands.
        return _already(Statement.objects.get(sha256=sha256), branch), False
    return stored, True


def _already(existing: Statement, branch: Branch) -> Statement:
    if existing.branch_id != branch.pk:
        raise ValidationError(
            {"file": _("This file has already been imported as the statement of another branch.")},
            code="statement_other_branch",
        )
    return existing


def _store(
    *,
    actor: User,
    branch: Branch,
    filename: str,
    sha256: str,
    lines: list[ParsedLine],
    start: date,
    end: date,
    meta: RequestMeta | None,
) -> Statement:
    references = sorted({line.reference for line in lines})
    payments = _subtree_payments(branch)
    # In batches: a statement may carry more references than a query may have parameters.
    by_reference = {
        p.bank_reference: p
        for batch in _batches(references)
        for p in _recorded(payments.filter(bank_reference__in=batch))
    }
    # A payment an earlier statement confirmed was on the bank's books: another
    # account's or an overlapping statement's, not missing.
    on_statement = set(references)
    missing = [
        p
        for p in _recorded(
            payments.filter(paid_on__gte=start, paid_on__lte=end, confirmed_by_statement__isnull=True)
        )
        if p.bank_reference not in on_statement
    ]
    matching = compare(lines, by_reference, missing)

    statement = Statement.objects.create(
        branch=branch,
        filename=filename[:200],
        sha256=sha256,
        period_start=start,
        period_end=end,
        line_count=len(lines),
        matched_count=matching.matched,
        difference_count=len(matching.differences),
        imported_by=actor,
        imported_at=timezone.now(),
    )
    StatementLine.objects.bulk_create(
        StatementLine(
            statement=statement,
            line_no=line.line_no,
            booked_on=line.booked_on,
            amount_fen=line.amount_fen,
            reference=line.reference,
            counterparty=line.counterparty,
            payment_id=matching.links.get(line.line_no),
        )
        for line in lines
    )
    line_pks = dict(statement.lines.values_list("line_no", "pk"))
    confirmed = _confirm(matching.confirms, line_pks, {line.line_no: line for line in lines})
    StatementDifference.objects.bulk_create(
        StatementDifference(
            statement=statement,
            kind=found.kind,
            line_id=line_pks[found.line_no] if found.line_no is not None else None,
            payment_id=found.payment,
            reference=found.reference[:64],
            statement_fen=found.statement_fen,
            recorded_fen=found.recorded_fen,
        )
        for found in matching.differences
    )

    kinds = Counter(found.kind for found in matching.differences)
    figures = {
        "line_count": len(lines),
        "local_count": len(by_reference) + len(missing),
        "matched_count": matching.matched,
        "confirmed_count": confirmed,
        "statement_paid_fen": sum(line.amount_fen for line in lines),
        "local_paid_fen": sum(p.amount_fen for p in by_reference.values())
        + sum(p.amount_fen for p in missing),
    }
    status = "differences" if kinds else "balanced"
    # The shape of the payment channels' reconciliation leaf (rendao.funds.reconciliation),
    # with `source` saying it is a bank statement: counts and totals, never references.
    leaf = ledger_append(
        kind="reconciliation",
        payload={
            "source": "bank_statement",
            "branch": branch.pk,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "bill_sha256": sha256,
            "bill_count": figures["line_count"],
            "local_count": figures["local_count"],
            "matched_count": figures["matched_count"],
            "channel_paid_fen": figures["statement_paid_fen"],
            "local_paid_fen": figures["local_paid_fen"],
            "status": status,
            "differences": {kind: kinds.get(kind, 0) for kind in K.values},
        },
    )
    statement.ledger_index = leaf.index
    statement.save(update_fields=["ledger_index"])
    audit_record(
        actor=actor,
        action="disbursements.statement_import",
        obj=statement,
        branch=branch,
        after={
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "status": status,
            "difference_count": len(matching.differences),
            **figures,
        },
        meta=meta,
    )
    return statement


def _confirm(confirms: dict[int, int], line_pks: dict[int, int], lines: dict[int, ParsedLine]) -> int:
    """Confirm the payments the statement shows, each once, with its payout_confirmed leaf."""
    if not confirms:
        return 0
    by_payment = {payment: line_no for line_no, payment in confirms.items()}
    # Locked in id order, and re-read under the lock: a payment another statement
    # confirmed meanwhile stays confirmed by that one.
    locked = [
        payment
        for batch in _batches(sorted(by_payment))
        for payment in Payment.objects.select_for_update(of=("self",))
        .select_related("disbursement")
        .filter(pk__in=batch, confirmed_by_statement__isnull=True)
        .order_by("pk")
    ]
    for payment in locked:
        line = lines[by_payment[payment.pk]]
        payment.confirmed_by_statement_id = line_pks[line.line_no]
        line_row = StatementLine(
            pk=line_pks[line.line_no],
            line_no=line.line_no,
            booked_on=line.booked_on,
            amount_fen=line.amount_fen,
        )
        # The bank's reference of the transfer: an organisation's transaction, not a person's.
        ledger_append(kind="payout_confirmed", payload=payout_payload(payment, line_row))
    Payment.objects.bulk_update(locked, ["confirmed_by_statement"], batch_size=500)
    return len(locked)


def statement_difference_resolve(
    *,
    actor: User,
    difference: StatementDifference,
    resolution: str,
    meta: RequestMeta | None = None,
) -> StatementDifference:
    """Record how finance settled a difference (who, when, why); once per difference."""
    statement = Statement.objects.select_related("branch").get(pk=difference.statement_id)
    if not in_scope(actor, Perm.FINANCE_MANAGE, statement.branch):
        raise PermissionDenied(_("Only finance staff of this branch resolve its statement differences."))
    text = " ".join(resolution.split())
    if not text:
        raise ValidationError({"resolution": _("Say how the difference was resolved.")}, code="required")
    if len(text) > RESOLUTION_MAX:
        raise ValidationError(
            {"resolution": _("At most 300 characters, please.")},
            code="max_length",
        )
    with transaction.atomic():
        locked = StatementDifference.objects.select_for_update().get(pk=difference.pk)
        if locked.resolved_at is not None:
            raise ValidationError(
                {"resolution": _("This difference has already been resolved.")}, code="resolved"
            )
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.resolution = text
        locked.save(update_fields=["resolved_by", "resolved_at", "resolution"])
        audit_record(
            actor=actor,
            action="disbursements.statement_difference_resolve",
            obj=locked,
            branch=statement.branch,
            after={"statement": statement.pk, "kind": locked.kind, "resolution": text},
            meta=meta,
        )
    return locked


# --- reads ----------------------------------------------------------------------------


def statements_for_viewer(*, user: User) -> QuerySet[Statement]:
    """Statements of the branches where `user` holds FINANCE_VIEW, newest first."""
    return scope_filter(
        Statement.objects.select_related("branch", "imported_by"), user=user, perm=Perm.FINANCE_VIEW
    )


def statement_get_for_viewer(*, user: User, pk: int) -> Statement:
    """The statement if in the user's FINANCE_VIEW scope; Http404 otherwise."""
    return get_in_scope(
        Statement.objects.select_related("branch", "imported_by"), user=user, perm=Perm.FINANCE_VIEW, pk=pk
    )


def difference_get_for_viewer(*, user: User, statement: Statement, pk: int) -> StatementDifference:
    """A difference of `statement` (already checked by `statement_get_for_viewer`); Http404 otherwise."""
    return get_in_scope(
        StatementDifference.objects.filter(statement=statement),
        user=user,
        perm=Perm.FINANCE_VIEW,
        field="statement__branch",
        pk=pk,
    )


def statement_lines(statement: Statement) -> QuerySet[StatementLine]:
    return statement.lines.select_related("payment__disbursement").order_by("line_no")


def differences_by_kind(statement: Statement) -> dict[str, list[StatementDifference]]:
    grouped: dict[str, list[StatementDifference]] = defaultdict(list)
    for difference in statement.differences.select_related(
        "line", "payment__disbursement", "resolved_by"
    ).order_by("id"):
        grouped[difference.kind].append(difference)
    return dict(grouped)


def may_manage(user: User, statement: Statement) -> bool:
    return in_scope(user, Perm.FINANCE_MANAGE, statement.branch)


# --- the log audit (`rendao manage ledger_audit`) -------------------------------------


def payout_payload(payment: Payment, line: StatementLine) -> dict[str, object]:
    """The "payout_confirmed" payload of `payment` confirmed by `line` (as `_confirm` writes it)."""
    return {
        "disbursement": payment.disbursement.number,
        "reference": payment.bank_reference,
        "amount_fen": line.amount_fen,
        "booked_on": line.booked_on.isoformat(),
    }


def payout_confirmed_now(logged: Mapping[str, object]) -> Mapping[str, object]:
    """Re-derive a "payout_confirmed" leaf from the payment it names and the line confirming it."""
    from rendao.ledger.audit_registry import Gone

    reference = logged.get("reference")
    if not isinstance(reference, str) or not reference:
        raise Gone
    payment = (
        Payment.objects.select_related("disbursement", "confirmed_by_statement")
        .filter(bank_reference=reference)
        .first()
    )
    if payment is None or payment.confirmed_by_statement is None:
        raise Gone
    return payout_payload(payment, payment.confirmed_by_statement)


def register_payout_rederiver() -> None:
    """Called from DisbursementsConfig.ready() so the log audit checks payout_confirmed leaves."""
    from rendao.ledger import audit_registry
    from rendao.ledger.models import EntryKind

    audit_registry.register(EntryKind.PAYOUT_CONFIRMED, payout_confirmed_now)
