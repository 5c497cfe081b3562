"""The public figures of a project, a branch and the society: every total from the
real payment, refund, disbursement and goods services, equal to hand-computed fen,
and every published check holding."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from unittest import mock

import pytest
from django.test import TestCase
from django.utils import timezone

from rendao.conftest import Personas
from rendao.disbursements.models import Disbursement
from rendao.disbursements.tests import factories as money
from rendao.disclosure.figures import Figures, Period, as_disclosure_figures, branch_figures, project_figures
from rendao.funds.models import Account, Donation, FundraisingProject
from rendao.funds.refunds import refund_request
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.goods import distribution
from rendao.goods.models import Intake
from rendao.goods.tests import goods_factory as goods

pytestmark = pytest.mark.django_db

SECRET_NAME = "欧阳秘密"
SECRET_MOBILE = "13912345678"


@dataclass
class Scenario:
    world: money.World
    project: FundraisingProject
    second: Donation
    paid: Disbursement
    open: Disbursement


def refund(donation: Donation, fen: int) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        refund_request(
            donation=donation,
            amount_fen=fen,
            out_refund_no=f"RF{secrets.token_hex(8)}",
            reason="donor asked",
            actor=None,
        )


def scenario(personas: Personas) -> Scenario:
    """A restricted 思明 project: 10,000.00 + 500.00 given, 200.00 refunded, 3,000.00
    paid to a hospital, 1,000.00 approved and unpaid; 60 school bags (50.00 each)
    received for it and 20 issued to a school."""
    w = money.world(personas, amount_fen=1_000_000)
    second = donate(w.project, amount_fen=50_000, donor_name=SECRET_NAME, mobile=SECRET_MOBILE)
    pay(second)
    refund(second, 20_000)
    paid = money.paid(w, amount_fen=300_000)
    still_open = money.approved(w, amount_fen=100_000)
    s = goods.scene(personas)
    lot = goods.lot(s.wh, receiver=s.keeper, quantity=60, unit_value_fen=5_000)
    Intake.objects.filter(pk=lot.intake_id).update(project=w.project)
    order = goods.approved_order(s, lines=[("书包", "", "个", 20)], project=w.project)
    distribution.order_issue(actor=s.keeper, order=order)
    w.project.refresh_from_db()
    second.refresh_from_db()
    return Scenario(world=w, project=w.project, second=second, paid=paid, open=still_open)


def failed(figures: Figures) -> list[str]:
    return [c.key for c in figures.checks if not c.holds]


def test_project_figures_equal_the_hand_computed_fen_and_every_check_holds(personas: Personas) -> None:
    s = scenario(personas)
    f = project_figures(s.project)
    assert (f.received_count, f.received_fen, f.refunded_fen, f.net_income_fen) == (
        2,
        1_050_000,
        20_000,
        1_030_000,
    )
    assert [(line.key, line.count, line.amount_fen) for line in f.by_channel] == [("sandbox", 2, 1_030_000)]
    assert [(line.key, line.amount_fen) for line in f.by_partner] == [("0", 1_030_000)]
    assert f.paid_out_fen == 300_000
    assert [(line.key, line.amount_fen) for line in f.by_category] == [("charitable", 300_000)]
    assert [(line.label, line.count, line.amount_fen) for line in f.by_payee] == [
        ("思明区第一医院", 1, 300_000)
    ]
    assert f.reserved_fen == 100_000
    assert (
        f.balance_fen == 730_000 == Account.objects.get(project=s.project, kind="restricted_fund").balance_fen
    )
    assert (f.goods_received_value_fen, f.goods_issued_value_fen) == (300_000, 100_000)
    assert [(line.label, line.count) for line in f.goods_issued] == [("书包", 20)]
    assert {c.key for c in f.checks} >= {
        "received_by_day",
        "net_income_by_channel",
        "net_income_by_partner",
        "paid_out_by_category",
        "paid_out_by_payee",
        "net_income_allocated",
        "fund_account",
        "raised_counter",
    }
    assert failed(f) == []
    assert f.consistent


def test_a_check_fails_visibly_when_the_project_counter_disagrees_with_the_daily_totals(
    personas: Personas,
) -> None:
    s = scenario(personas)
    FundraisingProject.objects.filter(pk=s.project.pk).update(raised_fen=1)
    s.project.refresh_from_db()
    f = project_figures(s.project)
    assert failed(f) == ["raised_counter"]
    check = next(c for c in f.checks if c.key == "raised_counter")
    assert (check.left_fen, check.right_fen) == (1, 1_030_000)
    assert not f.consistent


def test_a_refund_lowers_the_cumulative_and_shows_on_the_day_it_succeeded(personas: Personas) -> None:
    w = money.world(personas, amount_fen=80_000)
    before = project_figures(w.project)
    donation = Donation.objects.get(project=w.project)
    later = timezone.now() + timedelta(days=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        refund(donation, 30_000)
    w.project.refresh_from_db()
    after = project_figures(w.project)
    assert before.net_income_fen == 80_000
    assert after.net_income_fen == 50_000
    days = {d.day: (d.received_fen, d.refunded_fen) for d in after.by_day}
    assert days[timezone.localdate(later)] == (0, 30_000)
    assert days[timezone.localdate(donation.paid_at)] == (80_000, 0)
    assert failed(after) == []


def test_branch_and_society_figures_add_up_the_projects_under_them(personas: Personas) -> None:
    s = scenario(personas)
    city_project = open_project(personas.tree.city, personas.finance, restricted=False, title="城市项目")
    pay(donate(city_project, amount_fen=7_000))
    society = branch_figures(personas.tree.city)
    siming = branch_figures(personas.tree.siming)
    assert siming.net_income_fen == 1_030_000
    assert society.net_income_fen == 1_037_000
    assert society.paid_out_fen == siming.paid_out_fen == 300_000
    assert society.balance_fen == 737_000
    assert society.reserved_fen == 100_000
    assert failed(society) == []
    assert failed(siming) == []
    assert "restricted_fund_accounts" in {c.key for c in society.checks}
    assert s.project.pk  # the scenario's project is under 思明


def test_branch_figures_take_a_constant_number_of_queries(personas: Personas) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = money.world(personas, amount_fen=10_000)
    with CaptureQueriesContext(connection) as few:
        branch_figures(personas.tree.city)
    for _ in range(5):
        pay(donate(w.project, amount_fen=1_000))
    with CaptureQueriesContext(connection) as more:
        branch_figures(personas.tree.city)
    assert len(few) == len(more)


def test_period_figures_count_only_the_period_and_give_the_balance_at_its_end(personas: Personas) -> None:
    s = scenario(personas)
    today = timezone.localdate()
    past = project_figures(s.project, Period(start=today - timedelta(days=40), end=today - timedelta(days=1)))
    assert (past.received_fen, past.paid_out_fen, past.balance_fen) == (0, 0, 0)
    # The bags were received 30 days ago (the goods builder's default).
    assert past.goods_received_value_fen == 300_000
    assert past.goods_issued_value_fen == 0
    now = project_figures(s.project, Period(start=today, end=today))
    assert (now.net_income_fen, now.paid_out_fen, now.balance_fen) == (1_030_000, 300_000, 730_000)
    assert failed(past) == []
    assert failed(now) == []


def test_disclosure_figures_are_flat_integer_fen_with_stable_keys(personas: Personas) -> None:
    s = scenario(personas)
    flat = as_disclosure_figures(project_figures(s.project))
    assert flat == {
        "received": 1_050_000,
        "refunded": 20_000,
        "net_income": 1_030_000,
        "paid_out": 300_000,
        "paid_out:charitable": 300_000,
        "reserved": 100_000,
        "balance": 730_000,
        "goods_received_value": 300_000,
        "goods_issued_value": 100_000,
    }
    assert all(type(v) is int for v in flat.values())
