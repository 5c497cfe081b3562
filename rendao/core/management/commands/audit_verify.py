"""`rendao manage audit_verify`: re-check the whole audit hash chain.

Exit status 0 and "audit chain OK: N events" when every row is intact; exit
status 1 naming the first bad event otherwise, so that cron or monitoring can
alert on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit with status 1 at the first edited, missing or extra row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=2000, help="rows read per query (memory versus round trips)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        result = audit_verify(batch=options["batch"])
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at event {result.first_bad_id}: {result.reason} "
                f"({result.checked} events before it verified)"
            )
        self.stdout.write(f"audit chain OK: {result.checked} events")
