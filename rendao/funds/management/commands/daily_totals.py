"""`rendao manage daily_totals`: check the public daily totals against the donations.

The disclosure pages sum `DailyTotal` rows instead of scanning donations, so a
wrong row would publish a wrong figure. This recomputes every project's rows
from its donations and refunds and compares them (and the project's raised /
donation-count counters). Exit 0 when all agree, 1 otherwise (each differing
project listed). `--rebuild` replaces the differing projects' rows with the
recomputation (audited) — for repairs after a restore or a bulk import.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rendao.core.audit import audit_record
from rendao.funds.daily import daily_consistent, daily_rebuild
from rendao.funds.models import FundraisingProject


class Command(BaseCommand):
    help = "Check the daily donation totals the public pages use; exit 1 on any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="rebuild differing projects' rows (audited)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        differing = [p for p in FundraisingProject.objects.order_by("pk") if not daily_consistent(p)]
        for project in differing:
            self.stdout.write(f"project {project.pk}: daily totals differ from its donations")
        rebuilt = 0
        if options["rebuild"]:
            for project in differing:
                with transaction.atomic():
                    rows = daily_rebuild(project)
                    audit_record(
                        actor=None,
                        action="funds.daily_totals_rebuild",
                        obj=project,
                        branch=project.branch,
                        after={"rows": rows},
                    )
                rebuilt += 1
            self.stdout.write(f"rebuilt {rebuilt} project(s)")
        if len(differing) > rebuilt:
            raise CommandError(f"{len(differing) - rebuilt} project(s) with daily totals that differ")
        self.stdout.write("daily totals agree with the donations")
