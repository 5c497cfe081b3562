"""The `rendao demo --no-serve` flow, minus migrate (the test database has it):
load_demo twice, then demo_accounts, and sign-in codes that really verify."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from rendao.core.demo import accounts
from rendao.core.demo.xiamen import walk
from rendao.core.models import Branch, Membership, User
from rendao.core.totp import current_demo_code

pytestmark = pytest.mark.django_db


# The command loads DEMO_DONATIONS paid donations by default; a few go the same path.
FEW = ("--donations", "30")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_load_demo_twice_then_demo_accounts(db: None) -> None:
    first = run("load_demo", *FEW)
    assert "Demo data loaded" in first
    assert "4 fundraising projects and 30 donations" in first
    counts = (Branch.objects.count(), User.objects.count(), Membership.objects.count())
    assert counts == (len(walk()), len(accounts.STAFF) + len(accounts.PUBLIC), len(accounts.STAFF))
    assert "nothing changed" in run("load_demo", *FEW)
    assert (Branch.objects.count(), User.objects.count(), Membership.objects.count()) == counts

    printed = run("demo_accounts", "--url", "http://127.0.0.1:8123/")
    lines = printed.splitlines()
    assert lines[0] == "rendao demo: http://127.0.0.1:8123/"
    for spec in accounts.STAFF:
        (row,) = [line for line in lines if line.strip().startswith(f"{spec.username} ")]
        assert f"@ {spec.branch}" in row
        assert accounts.DEMO_PASSWORD in row
        assert f"otpauth://totp/rendao%3A{spec.username}?secret=" in row
    assert "current code: rendao totp <username>" in lines
    for public in accounts.PUBLIC:
        assert public.mobile is None or public.mobile in printed
    assert "SMS code appears in the server console" in printed


def test_the_printed_uri_and_the_totp_command_give_codes_that_verify(db: None) -> None:
    run("load_demo", *FEW)
    for username in ("sysadmin", "siming_admin", "lianxiu_admin"):
        device = TOTPDevice.objects.get(user__username=username)
        assert device.verify_token(current_demo_code(username))


def test_the_codes_are_the_same_after_reloading(db: None) -> None:
    run("load_demo", *FEW)
    key = TOTPDevice.objects.get(user__username="finance").key
    TOTPDevice.objects.filter(user__username="finance").delete()
    run("load_demo", *FEW)
    assert TOTPDevice.objects.get(user__username="finance").key == key


def test_codes_are_printed_only_for_demo_accounts(db: None) -> None:
    User.objects.create_user("real_staff", password="a real password!")
    with pytest.raises(CommandError):
        current_demo_code("real_staff")
    with pytest.raises(CommandError):
        current_demo_code("no_such_user")


def test_demo_accounts_before_loading_says_what_to_do(db: None) -> None:
    assert "run `rendao manage load_demo` first" in run("demo_accounts")


@override_settings(RENDAO_ENV="production")
def test_both_commands_refuse_to_run_in_production(db: None) -> None:
    with pytest.raises(CommandError):
        run("load_demo", *FEW)
    with pytest.raises(CommandError):
        run("demo_accounts", "--url", "https://rendao.example/")
    with pytest.raises(CommandError):
        current_demo_code("sysadmin")
    assert not Branch.objects.exists()
