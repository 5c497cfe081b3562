"""`rendao manage load_demo`: load the Xiamen demo tree and accounts (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.core.demo.loader import load_demo
from rendao.funds.demo import DEMO_DONATIONS


class Command(BaseCommand):
    help = "Load the deterministic Xiamen demo data and demo accounts. Refused in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--donations",
            type=int,
            default=DEMO_DONATIONS,
            help=f"paid sandbox donations to load with the projects (default {DEMO_DONATIONS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["donations"] < 0:
            raise CommandError("--donations cannot be negative")
        result = load_demo(donations=options["donations"])
        if not result.changed:
            self.stdout.write("Demo data already loaded; nothing changed.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {result.branches_created} branches created, "
                f"{result.branches_updated} updated, {result.users_created} accounts created, "
                f"{result.memberships_granted} roles granted, {result.devices_written} TOTP devices set, "
                f"{result.projects_created} fundraising projects and {result.donations_paid} donations."
            )
        )
