"""`rendao manage accounts_recompute`: check stored balances against the journal.

Recomputes every account's balance from its journal lines and checks that all
debits equal all credits. Exit status 0 when everything agrees; 1 when a
balance differs (each one is listed) or the journal does not balance. With
`--fix`, differing balances are set to the recomputed value, one audit row per
account, and the command then exits 0 unless the journal itself is unbalanced
(which no balance fix can repair).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rendao.funds.accounting import accounts_fix_balances, accounts_recompute


class Command(BaseCommand):
    help = "Recompute fund account balances from the journal; exit 1 on any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix", action="store_true", help="set differing balances to the recomputed value (audited)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = accounts_recompute()
        for diff in result.differences:
            self.stdout.write(
                f"account {diff.account.pk} ({diff.account.code}): stored {diff.stored_fen} fen, "
                f"journal {diff.computed_fen} fen"
            )
        fixed = 0
        if options["fix"] and result.differences:
            with transaction.atomic():
                fixed = accounts_fix_balances(differences=result.differences)
            self.stdout.write(f"fixed {fixed} account balance(s)")
        if not result.balanced:
            raise CommandError(
                f"journal UNBALANCED: debits {result.total_debit_fen} fen, "
                f"credits {result.total_credit_fen} fen"
            )
        if len(result.differences) > fixed:
            raise CommandError(
                f"{len(result.differences) - fixed} account balance(s) differ from the journal"
            )
        self.stdout.write(
            f"accounts OK: debits = credits = {result.total_debit_fen} fen"
            + (f", {fixed} fixed" if fixed else "")
        )
