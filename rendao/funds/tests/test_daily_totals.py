"""The daily totals the public disclosure pages sum: written with the payment and
the refund, on the right day, channel and co-initiator, and rebuildable."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from rendao.conftest import Tree
from rendao.core.models import User
from rendao.funds.daily import daily_consistent, daily_rebuild
from rendao.funds.models import CoInitiator, DailyTotal, Donation, DonationStatus
from rendao.funds.refunds import refund_request
from rendao.funds.tests.factories import donate, open_project, pay

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def creator() -> User:
    return User.objects.create_user("daily-creator", display_name="creator")


def _refund(donation: Donation, fen: int) -> None:
    refund_request(
        donation=donation,
        amount_fen=fen,
        out_refund_no=f"RF{secrets.token_hex(8)}",
        reason="donor asked",
        actor=None,
    )


def test_a_paid_donation_is_counted_once_on_its_day_even_when_notified_twice(
    tree: Tree, creator: User
) -> None:
    project = open_project(tree.city, creator)
    donation = donate(project, amount_fen=12_345)
    assert pay(donation).status == 200
    assert pay(donation).status == 200
    donation.refresh_from_db()
    row = DailyTotal.objects.get(project=project)
    assert donation.paid_at is not None
    assert row.day == donation.paid_at.astimezone(SHANGHAI).date()
    assert (row.channel, row.partner, row.received_count, row.received_fen) == ("sandbox", 0, 1, 12_345)
    assert daily_consistent(project)


def test_refunds_are_booked_on_the_day_they_succeed_and_full_ones_leave_the_count(
    tree: Tree, creator: User
) -> None:
    project = open_project(tree.city, creator)
    first, second = donate(project, amount_fen=10_000), donate(project, amount_fen=5_000)
    pay(first)
    pay(second)
    _refund(first, 2_500)
    _refund(second, 5_000)
    sums = DailyTotal.objects.filter(project=project).aggregate(
        r=Sum("received_fen"), f=Sum("refunded_fen"), c=Sum("received_count"), g=Sum("refunded_count")
    )
    assert sums == {"r": 15_000, "f": 7_500, "c": 2, "g": 1}
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (7_500, 1)
    assert daily_consistent(project)


def test_co_initiated_gifts_have_their_own_rows(tree: Tree, creator: User) -> None:
    project = open_project(tree.city, creator)
    partner = CoInitiator.objects.create(
        project=project,
        organisation_name="厦门某某公益基金会",
        assessment_note="ok",
        role="线上推广",
        attribution_code="PARTNERX1",
    )
    pay(donate(project, amount_fen=1_000))
    pay(donate(project, amount_fen=2_000, attribution="PARTNERX1"))
    rows = dict(DailyTotal.objects.filter(project=project).values_list("partner", "received_fen"))
    assert rows == {0: 1_000, partner.pk: 2_000}
    assert daily_consistent(project)


def test_money_arriving_after_the_order_closed_is_never_counted(tree: Tree, creator: User) -> None:
    project = open_project(tree.city, creator)
    donation = donate(project, amount_fen=3_000)
    Donation.objects.filter(pk=donation.pk).update(status=DonationStatus.EXPIRED)
    pay(donation)
    donation.refresh_from_db()
    assert donation.refund_flagged
    assert not DailyTotal.objects.filter(project=project).exists()
    _refund(donation, 3_000)
    assert not DailyTotal.objects.filter(project=project).exists()
    assert daily_consistent(project)


def test_a_tampered_row_is_detected_and_the_rebuild_repairs_it(tree: Tree, creator: User) -> None:
    project = open_project(tree.city, creator)
    for fen in (100, 200, 300):
        pay(donate(project, amount_fen=fen))
    DailyTotal.objects.filter(project=project).update(received_fen=1)
    assert not daily_consistent(project)
    assert daily_rebuild(project) == 1
    assert daily_consistent(project)


def test_days_follow_the_society_s_time_zone_not_utc(tree: Tree, creator: User) -> None:
    project = open_project(tree.city, creator)
    donation = donate(project, amount_fen=800)
    pay(donation)
    # 16:30 UTC is 00:30 the next day in Xiamen.
    late_evening = datetime(2026, 3, 1, 16, 30, tzinfo=ZoneInfo("UTC"))
    Donation.objects.filter(pk=donation.pk).update(paid_at=late_evening)
    daily_rebuild(project)
    assert DailyTotal.objects.get(project=project).day == (late_evening + timedelta(hours=8)).date()


def test_one_row_per_project_day_channel_and_co_initiator(tree: Tree, creator: User) -> None:
    project = open_project(tree.city, creator)
    pay(donate(project, amount_fen=100))
    row = DailyTotal.objects.get(project=project)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyTotal.objects.create(project=project, day=row.day, channel=row.channel, partner=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyTotal.objects.create(project=project, day=row.day, channel="other", received_fen=-1)


def test_the_command_reports_differences_and_rebuilds_them(tree: Tree, creator: User) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    project = open_project(tree.city, creator)
    pay(donate(project, amount_fen=100))
    out = StringIO()
    call_command("daily_totals", stdout=out)
    assert "agree" in out.getvalue()
    DailyTotal.objects.filter(project=project).update(received_count=7)
    with pytest.raises(CommandError):
        call_command("daily_totals", stdout=StringIO())
    out = StringIO()
    call_command("daily_totals", "--rebuild", stdout=out)
    assert f"project {project.pk}" in out.getvalue()
    assert DailyTotal.objects.get(project=project).received_count == 1
