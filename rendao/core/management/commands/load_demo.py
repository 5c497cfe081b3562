"""`rendao manage load_demo`: load the Xiamen demo tree and accounts (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rendao.core.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the deterministic Xiamen demo data and demo accounts. Refused in production."

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_demo()
        if not result.changed:
            self.stdout.write("Demo data already loaded; nothing changed.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {result.branches_created} branches created, "
                f"{result.branches_updated} updated, {result.users_created} accounts created, "
                f"{result.memberships_granted} roles granted, {result.devices_written} TOTP devices set."
            )
        )
