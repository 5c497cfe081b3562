"""`rendao manage import_statement <file> --branch <id> --user <username> [--from D --to D]`

Imports a branch's bank statement (CSV or XLSX) as finance would on the page and
matches it with the recorded disbursement payments, in the name of `--user`
(who needs finance.manage at the branch). Prints the counts and every
difference. Exit status 0 when the statement balances, 1 when there are
differences or the file was refused. Importing the same file again shows the
statement already stored and changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.core.models import Branch, User
from rendao.disbursements.models import Statement
from rendao.disbursements.statements import statement_import_outcome


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} must be YYYY-MM-DD, not {text!r}") from None


class Command(BaseCommand):
    help = "Import a bank statement (CSV or XLSX) and match it with the disbursement payments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the statement file as exported from online banking")
        parser.add_argument("--branch", type=int, required=True, help="id of the branch whose account it is")
        parser.add_argument("--user", required=True, help="username of the finance officer importing it")
        parser.add_argument("--from", dest="period_start", help="first day of the period, YYYY-MM-DD")
        parser.add_argument("--to", dest="period_end", help="last day of the period, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        branch = Branch.objects.filter(pk=options["branch"], is_active=True).first()
        if branch is None:
            raise CommandError(f"no active branch with id {options['branch']}")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        try:
            statement, created = statement_import_outcome(
                actor=user,
                branch=branch,
                filename=path.name,
                content=content,
                period_start=_day(options["period_start"], "--from"),
                period_end=_day(options["period_end"], "--to"),
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("; ".join(messages)) from None
        self._print(statement, created)
        if statement.difference_count:
            raise CommandError(f"{statement.difference_count} difference(s)", returncode=1)

    def _print(self, statement: Statement, created: bool) -> None:
        state = "imported" if created else "already imported, nothing changed"
        self.stdout.write(
            f"statement {statement.pk} of branch {statement.branch_id}: {state}\n"
            f"  period {statement.period_start} to {statement.period_end}, sha256 {statement.sha256[:12]}…\n"
            f"  outgoing transfers {statement.line_count}, matched {statement.matched_count}, "
            f"differences {statement.difference_count}"
        )
        for difference in statement.differences.select_related("line").order_by("id"):
            line = f"line {difference.line.line_no}" if difference.line else "not on the statement"
            self.stdout.write(
                f"  {difference.kind}: {difference.reference} ({line}; statement {difference.statement_fen}, "
                f"recorded {difference.recorded_fen} fen)"
            )
