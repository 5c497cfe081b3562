from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rendao.conftest import Tree
from rendao.core.models import AuditEvent, Membership, User

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42\n"


def run(*args: str, stdin: str = PASSWORD) -> str:
    out = io.StringIO()
    import sys

    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("create_staff", *args, "--password-stdin", stdout=out)
    finally:
        sys.stdin = saved
    return out.getvalue()


def test_the_first_system_administrator_is_created_at_the_city_society(tree: Tree) -> None:
    run("admin", "--role", "system_admin", "--branch", "350200000000")
    user = User.objects.get(username="admin")
    assert user.is_staff
    assert user.check_password(PASSWORD.strip())
    membership = Membership.objects.get(user=user)
    assert (membership.role.code, membership.branch) == ("system_admin", tree.city)
    assert AuditEvent.objects.filter(action="membership.grant", object_id=str(membership.pk)).exists()


def test_a_business_role_gets_no_admin_site_access(tree: Tree) -> None:
    run("wang", "--role", "finance", "--branch", str(tree.siming.pk), "--display-name", "王芳")
    user = User.objects.get(username="wang")
    assert not user.is_staff
    assert user.display_name == "王芳"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["x1", "--role", "pilot", "--branch", "350200000000"], PASSWORD, "Unknown role"),
        (["x2", "--role", "finance", "--branch", "999999999999"], PASSWORD, "No branch"),
        (["x3", "--role", "finance", "--branch", "350200000000"], "short\n", "too short"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(
    tree: Tree, args: list[str], stdin: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args, stdin=stdin)
    assert not User.objects.filter(username=args[0]).exists()


def test_a_taken_username_is_refused(tree: Tree) -> None:
    run("li", "--role", "reviewer", "--branch", "350203000000")
    with pytest.raises(CommandError, match="already taken"):
        run("li", "--role", "reviewer", "--branch", "350203000000")
