"""`rendao manage demo_accounts --url URL`: print how to sign in to the demo."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from rendao.core.demo import accounts
from rendao.core.demo.loader import refuse_in_production
from rendao.core.models import Membership, User
from rendao.privacy.fields import index_for


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


class Command(BaseCommand):
    help = (
        "Print the demo's URL, staff accounts (password, TOTP URI) and public users. Refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the demo is served")

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_in_production()
        url: str = options["url"].rstrip("/") + "/"
        write = self.stdout.write
        write(f"rendao demo: {url}")
        write(f"Staff workbench: {url}staff/ (password, then the TOTP code)")
        write("")

        usernames = [s.username for s in accounts.STAFF]
        users = {u.username: u for u in User.objects.filter(username__in=usernames, is_demo=True)}
        grants: dict[int, list[str]] = {}
        for m in Membership.objects.filter(user__in=users.values()).select_related("role", "branch"):
            grants.setdefault(m.user_id, []).append(f"{m.role.label} @ {m.branch.name}")
        devices = {
            d.user_id: d
            for d in TOTPDevice.objects.filter(
                user__in=users.values(), name=accounts.TOTP_DEVICE_NAME, confirmed=True
            )
        }
        rows = [["username", "role @ branch", "password", "TOTP (otpauth URI)"]]
        for username in usernames:
            user = users.get(username)
            if user is None:
                continue
            device = devices.get(user.pk)
            rows.append(
                [
                    username,
                    "; ".join(sorted(grants.get(user.pk, []))) or "-",
                    accounts.DEMO_PASSWORD,
                    device.config_url if device is not None else "-",
                ]
            )
        if len(rows) == 1:
            write("No demo accounts found: run `rendao manage load_demo` first.")
            return
        write("Demo staff accounts:")
        for line in _table(rows):
            write(f"  {line}")
        write("current code: rendao totp <username>")
        write("")
        write("Demo public users (sign in with the mobile number and an SMS code):")
        for spec in accounts.PUBLIC:
            if spec.mobile is None:
                continue  # a child does not sign in
            if User.objects.filter(mobile_index=index_for("mobile", spec.mobile), is_demo=True).exists():
                write(f"  {spec.mobile}  {spec.display_name}")
        write("  The SMS code appears in the server console and on the staff outbox page.")
