"""Branch and society figures also show what general funds paid for no project, and
goods given to a branch for no project — apart from the projects' own equation."""

from __future__ import annotations

import pytest
from django.test import Client

from rendao.conftest import Personas
from rendao.disbursements import services
from rendao.disbursements.models import Category
from rendao.disbursements.tests import factories as money
from rendao.disclosure.figures import branch_figures, project_figures
from rendao.funds.donations import general_fund_code
from rendao.funds.models import Account
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.goods.tests import goods_factory as goods

pytestmark = pytest.mark.django_db


def test_general_fund_spending_and_project_less_goods_show_at_branch_and_society_level(
    personas: Personas,
) -> None:
    w = money.world(personas, amount_fen=500_000)
    general_project = open_project(personas.tree.siming, personas.finance, restricted=False, title="博爱思明")
    pay(donate(general_project, amount_fen=300_000))
    general = Account.objects.get(code=general_fund_code(personas.tree.siming.pk))
    d = services.disbursement_request(
        actor=personas.finance,
        fund=general,
        payee=w.payee,
        amount_fen=120_000,
        purpose="冬季慰问困难家庭",
        category=Category.CHARITABLE,
        payee_bank_account="中国银行 思明支行 6217000000000000",
    )
    assert d.project_id is None
    money.approve(w, d)
    money.record(w, d, amount_fen=120_000, reference="GFPAY0001")
    s = goods.scene(personas)
    lot = goods.lot(s.wh, receiver=s.keeper, quantity=10, unit_value_fen=2_000)
    assert lot.intake.project_id is None

    siming = branch_figures(personas.tree.siming)
    assert siming.general_paid_out_fen == 120_000
    assert [(line.key, line.amount_fen) for line in siming.general_by_category] == [("charitable", 120_000)]
    assert [(line.label, line.count) for line in siming.general_by_payee] == [(w.payee.name, 1)]
    # Not mixed into the projects' own spending or their equation.
    assert siming.paid_out_fen == 0
    assert siming.consistent, [c for c in siming.checks if not c.holds]
    society = branch_figures(personas.tree.city)
    assert society.general_paid_out_fen == 120_000
    assert society.goods_received_value_fen == 20_000
    assert society.consistent
    # A project never shows another fund's spending.
    assert project_figures(general_project).general_paid_out_fen == 0

    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = client.get("/api/v1/open/summary/society").json()
    spending = body["spending"]
    assert spending["general_paid_out_fen"] == 120_000
    assert sum(line["amount_fen"] for line in spending["general_by_payee"]) == 120_000
    assert body["consistent"] is True
    page = client.get("/open/").content.decode()
    assert "Paid from general funds" in page
    assert "¥1,200.00" in page
