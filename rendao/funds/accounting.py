"""Double-entry postings to the fund accounts: open, post, reverse, recompute.

Every donation, refund and disbursement ends in `journal_post`, inside the
caller's transaction, so the business row, its journal entry, the updated
balances and the audit row commit or roll back together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from rendao.core.audit import audit_record
from rendao.funds.models import Account, JournalEntry, JournalLine

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

# (account, debit_fen, credit_fen)
Line = tuple[Account, int, int]


def _require_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} must be called inside the caller's transaction")


def _is_fen(value: object) -> bool:
    # `type(...) is int`, not isinstance: bool is an int subclass, and a float
    # or Decimal amount means someone converted yuan somewhere — refuse it.
    return type(value) is int


def account_open(*, code: str, name: str, kind: str, branch: Branch, actor: User | None = None) -> Account:
    """Create an account with a zero balance."""
    if kind not in Account.Kind.values:
        raise ValidationError(_("Unknown account kind."), code="kind")
    if Account.objects.filter(code=code).exists():
        raise ValidationError(_("An account with this code already exists."), code="code")
    with transaction.atomic():
        account = Account(code=code, name=name, kind=kind, branch=branch)
        account.full_clean()
        account.save()
        audit_record(
            actor=actor,
            action="funds.account_open",
            obj=account,
            branch=branch,
            after={"account_kind": kind, "account_id": account.pk},
        )
    return account


def _check_lines(lines: Sequence[Line]) -> None:
    if len(lines) < 2:
        raise ValidationError(_("A journal entry needs at least two lines."), code="lines")
    total_debit = 0
    total_credit = 0
    for account, debit, credit in lines:
        if not isinstance(account, Account) or account.pk is None:
            raise ValidationError(_("Each line needs a saved account."), code="account")
        if not (_is_fen(debit) and _is_fen(credit)):
            raise ValidationError(_("Amounts must be whole fen (integers)."), code="amount_type")
        if debit < 0 or credit < 0:
            raise ValidationError(_("Amounts cannot be negative."), code="amount_negative")
        if (debit > 0) == (credit > 0):
            raise ValidationError(
                _("Each line must have exactly one of debit or credit above zero."), code="amount_side"
            )
        total_debit += debit
        total_credit += credit
    if total_debit != total_credit:
        raise ValidationError(
            _("Debits (%(debit)s fen) and credits (%(credit)s fen) do not balance.")
            % {"debit": total_debit, "credit": total_credit},
            code="unbalanced",
        )


def journal_post(
    *,
    lines: Sequence[Line],
    reference: str,
    reason: str,
    actor: User | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry and update the touched balances.

    Refuses (ValidationError, nothing written) unbalanced or malformed lines,
    inactive accounts, and any posting that would take a restricted fund below
    zero or below its reserved amount. `reverses` is for `journal_reverse` only.
    """
    _require_transaction("journal_post")
    _check_lines(lines)
    if not reference or not reason:
        raise ValidationError(_("A journal entry needs a reference and a reason."), code="reference")

    # A savepoint: if a database constraint still refuses something, only this
    # posting is undone and the caller's transaction stays usable.
    with transaction.atomic():
        # Lock every touched account in ascending id order. Two postings that
        # touch the same accounts then always queue on the first shared one
        # instead of each holding a lock the other waits for (a deadlock), the
        # usual case being a donation and a refund on the same fund and channel.
        ids = sorted({account.pk for account, _d, _c in lines})
        # The branch comes in the same query for the audit row; of=self keeps the
        # lock on the accounts (PostgreSQL would otherwise lock the branch row too).
        locked = {
            a.pk: a
            for a in Account.objects.select_for_update(of=("self",))
            .select_related("branch")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        changes: dict[int, int] = defaultdict(int)
        for account, debit, credit in lines:
            changes[account.pk] += locked[account.pk].signed_change(debit_fen=debit, credit_fen=credit)
        for pk in ids:
            acc = locked[pk]
            if not acc.is_active:
                raise ValidationError(
                    _("Account %(account)s is closed.") % {"account": acc.code}, code="inactive"
                )
            if acc.kind == Account.Kind.RESTRICTED_FUND and acc.balance_fen + changes[pk] < 0:
                raise ValidationError(
                    _("Restricted fund %(account)s would go below zero.") % {"account": acc.code},
                    code="restricted_negative",
                )
            # Money promised to approved disbursements (reserved_fen) stays in the
            # fund: only the payment that consumes a reservation may spend it, and
            # it lowers reserved_fen before posting (rendao.disbursements.services).
            if (
                acc.kind == Account.Kind.RESTRICTED_FUND
                and changes[pk] < 0
                and acc.balance_fen + changes[pk] < acc.reserved_fen
            ):
                raise ValidationError(
                    _(
                        "Restricted fund %(account)s would go below the amount reserved "
                        "for approved disbursements."
                    )
                    % {"account": acc.code},
                    code="restricted_reserved",
                )

        entry = JournalEntry.objects.create(
            reason=reason, reference=reference, created_by=actor, reverses=reverses
        )
        JournalLine.objects.bulk_create(
            [
                JournalLine(entry=entry, account_id=account.pk, debit_fen=debit, credit_fen=credit)
                for account, debit, credit in lines
            ]
        )
        for pk in ids:
            if changes[pk]:
                locked[pk].balance_fen += changes[pk]
                Account.objects.filter(pk=pk).update(balance_fen=locked[pk].balance_fen)
        # Keep the caller's instances current: they may post again with them.
        for account, _d, _c in lines:
            account.balance_fen = locked[account.pk].balance_fen

        first = locked[ids[0]]
        audit_record(
            actor=actor,
            action="funds.journal_reverse" if reverses is not None else "funds.journal_post",
            obj=entry,
            branch=first.branch,
            after={
                "reference": reference,
                "reverses": reverses.pk if reverses is not None else None,
                "total_fen": sum(d for _a, d, _c in lines),
                "lines": [[account.pk, debit, credit] for account, debit, credit in lines],
            },
        )
    return entry


def journal_reverse(*, entry: JournalEntry, reason: str, actor: User | None) -> JournalEntry:
    """Post the mirror of `entry` (debits and credits swapped), at most once."""
    _require_transaction("journal_reverse")
    # Serialise reversals of the same entry (SELECT … FOR UPDATE takes a row
    # lock without writing, so the append-only trigger is not involved); the
    # unique `reverses` column is the last line of defence.
    original = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if JournalEntry.objects.filter(reverses=original).exists():
        raise ValidationError(_("This entry has already been reversed."), code="already_reversed")
    lines: list[Line] = [
        (line.account, line.credit_fen, line.debit_fen)
        for line in original.lines.select_related("account").order_by("id")
    ]
    try:
        return journal_post(
            lines=lines,
            reference=original.reference,
            reason=reason,
            actor=actor,
            reverses=original,
        )
    except IntegrityError as exc:
        raise ValidationError(_("This entry has already been reversed."), code="already_reversed") from exc


@dataclass(frozen=True)
class BalanceDifference:
    account: Account
    stored_fen: int
    computed_fen: int


@dataclass(frozen=True)
class RecomputeResult:
    differences: list[BalanceDifference] = field(default_factory=list)
    total_debit_fen: int = 0
    total_credit_fen: int = 0

    @property
    def balanced(self) -> bool:
        return self.total_debit_fen == self.total_credit_fen


def accounts_recompute() -> RecomputeResult:
    """Recompute every balance from the journal lines; report what differs."""
    sums = {
        row["account"]: (row["d"] or 0, row["c"] or 0)
        for row in JournalLine.objects.values("account").annotate(d=Sum("debit_fen"), c=Sum("credit_fen"))
    }
    differences = []
    for account in Account.objects.order_by("pk"):
        debit, credit = sums.get(account.pk, (0, 0))
        computed = account.signed_change(debit_fen=debit, credit_fen=credit)
        if computed != account.balance_fen:
            differences.append(BalanceDifference(account, account.balance_fen, computed))
    totals = JournalLine.objects.aggregate(d=Sum("debit_fen"), c=Sum("credit_fen"))
    return RecomputeResult(differences, totals["d"] or 0, totals["c"] or 0)


def accounts_fix_balances(*, differences: Sequence[BalanceDifference], actor: User | None = None) -> int:
    """Set each differing stored balance to its recomputed value, audited."""
    _require_transaction("accounts_fix_balances")
    fixed = 0
    for diff in differences:
        account = Account.objects.select_for_update().get(pk=diff.account.pk)
        if account.balance_fen != diff.stored_fen:
            # Changed since it was read: leave it for the next run rather than
            # overwrite a posting that happened in between.
            continue
        Account.objects.filter(pk=account.pk).update(balance_fen=diff.computed_fen)
        audit_record(
            actor=actor,
            action="funds.balance_fix",
            obj=account,
            branch=account.branch,
            before={"balance_fen": diff.stored_fen},
            after={"balance_fen": diff.computed_fen},
        )
        fixed += 1
    return fixed
