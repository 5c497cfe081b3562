"""Create a staff account with a role at a branch — how an installation gets its
first system administrator, and how operators add staff from the shell.

    rendao manage create_staff admin --role system_admin --branch 350200000000
    rendao manage create_staff wang --role finance --branch 350203000000 --display-name 王芳

The password is read from the terminal (twice) or, for scripts, from standard
input with --password-stdin; it is never a command-line argument, which would
land in the shell history and the process list. The second factor is enrolled at
the first sign-in (the staff sign-in shows the QR code).
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rendao.core.models import Branch, Role, User
from rendao.core.services.memberships import membership_grant


class Command(BaseCommand):
    help = "Create a staff account holding a role at a branch (password from the terminal)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="Role code, e.g. system_admin, finance.")
        parser.add_argument(
            "--branch", required=True, help="Branch id or 12-digit administrative division code."
        )
        parser.add_argument("--display-name", default="")
        parser.add_argument("--password-stdin", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        if not username or User.objects.filter(username=username).exists():
            raise CommandError(f"The username {username!r} is empty or already taken.")
        role = Role.objects.filter(code=options["role"]).first()
        if role is None:
            codes = ", ".join(Role.objects.values_list("code", flat=True))
            raise CommandError(f"Unknown role {options['role']!r}; roles: {codes}")
        branch = self._branch(options["branch"])
        password = self._password(options["password_stdin"])
        user = User(username=username, display_name=options["display_name"] or username)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            with transaction.atomic():
                user.set_password(password)
                # Only system administrators may open the configuration site.
                user.is_staff = role.code == Role.SYSTEM_ADMIN
                user.save()
                # actor=None: the platform itself, run by whoever holds the shell.
                membership_grant(actor=None, user=user, branch=branch, role=role)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created {username} as {role.label} at {branch.name}. "
            "They enrol their authenticator app at their first sign-in."
        )

    def _branch(self, ref: str) -> Branch:
        ref = ref.strip()
        branch: Branch | None = None
        if ref.isdigit() and len(ref) == 12:
            branch = Branch.objects.filter(division_code=ref).order_by("depth").first()
        elif ref.isdigit():
            branch = Branch.objects.filter(pk=int(ref)).first()
        if branch is None:
            raise CommandError(f"No branch with id or division code {ref!r}.")
        return branch

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
