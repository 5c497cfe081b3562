"""`rendao manage ledger_audit`: do the business tables still say what was logged?

Walks every entry of the transparency log and re-derives its leaf from the
current business rows with the re-deriver its app registered for its kind
(rendao/ledger/audit_registry.py). Prints one line per entry whose business
state no longer matches (keys named, values not), then a summary that lists the
kinds nobody can re-derive yet as "not checked". Exit status 1 on any mismatch,
so cron or monitoring can alert on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.ledger.audit_registry import ledger_audit


class Command(BaseCommand):
    help = "Re-derive every ledger entry from the business tables; exit with status 1 on any mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=2000, help="entries read per query (memory versus round trips)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        report = ledger_audit(batch=options["batch"])
        for mismatch in report.mismatches:
            self.stdout.write(f"MISMATCH {mismatch}")
        for kind, count in sorted(report.not_checked.items()):
            self.stdout.write(f"not checked: {count} {kind} entries (no re-deriver registered)")
        summary = (
            f"{report.checked} entries re-derived, {len(report.mismatches)} mismatches, "
            f"{sum(report.not_checked.values())} not checked"
        )
        if not report.ok:
            raise CommandError(f"ledger audit FAILED: {summary}")
        self.stdout.write(f"ledger audit OK: {summary}")
