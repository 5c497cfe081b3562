from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import User
from rendao.recipients.models import Institution, Need, NeedStatus
from rendao.recipients.selectors import awaiting_signoff

from .conftest import make_institution, make_need

pytestmark = pytest.mark.django_db
EN: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _need_form(**fields: str) -> dict[str, str]:
    data = {
        "item_name": "口罩",
        "specification": "N95",
        "unit": "盒",
        "quantity": "50",
        "deadline": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "purpose": "发热门诊",
    }
    data.update(fields)
    return data


def test_a_representative_sees_their_institutions(
    personas: Personas, school: Institution, representative: User
) -> None:
    other = make_institution(personas, at="huli", name="湖里医院")
    page = signed_in_client(representative).get(reverse("recipients:portal"), **EN)
    assert page.status_code == 200
    assert school.name in page.content.decode()
    assert other.name not in page.content.decode()
    assert "Nothing is waiting for your confirmation" in page.content.decode()


def test_a_user_who_represents_nobody_is_refused(personas: Personas) -> None:
    response = signed_in_client(personas.public).get(reverse("recipients:portal"), **EN)
    assert response.status_code == 403
    assert (
        signed_in_client(personas.public).get(reverse("recipients:portal_institution", args=[1])).status_code
        == 404
    )


def test_a_representative_publishes_and_withdraws_through_the_portal(
    personas: Personas, school: Institution, representative: User
) -> None:
    client = signed_in_client(representative)
    url = reverse("recipients:portal_institution", args=[school.pk])
    assert client.post(url, _need_form(), **EN).status_code == 302
    need = Need.objects.get()
    assert need.published_by == representative
    bad = client.post(url, _need_form(deadline="2000-01-01"), **EN)
    assert bad.status_code == 400
    assert "cannot be in the past" in bad.content.decode()
    assert Need.objects.count() == 1
    client.post(reverse("recipients:portal_need_close", args=[need.pk]), {"action": "withdraw"}, **EN)
    need.refresh_from_db()
    assert need.status == NeedStatus.WITHDRAWN


def test_another_institutions_need_is_not_reachable(
    personas: Personas, school: Institution, representative: User
) -> None:
    other = make_institution(personas, at="huli", name="湖里医院")
    need = make_need(personas.huli_staff, other)
    client = signed_in_client(representative)
    assert (
        client.post(
            reverse("recipients:portal_need_close", args=[need.pk]), {"action": "withdraw"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("recipients:portal_institution", args=[other.pk]), _need_form()).status_code
        == 404
    )
    need.refresh_from_db()
    assert need.status == NeedStatus.OPEN


def test_nothing_awaits_a_user_without_institutions(personas: Personas) -> None:
    assert awaiting_signoff(user=personas.public) == []


def test_paid_money_and_issued_goods_await_the_representative(
    personas: Personas, school: Institution, representative: User
) -> None:
    from rendao.disbursements.models import Disbursement
    from rendao.funds.models import Account
    from rendao.goods.models import DistributionOrder, Warehouse

    fund = Account.objects.create(
        code="matrix-gf", name="general", kind="general_fund", branch=personas.tree.siming
    )
    common: dict[str, Any] = {"branch": personas.tree.siming, "requested_by": personas.finance}
    Disbursement.objects.create(
        number="DB-1",
        fund=fund,
        payee=school,
        amount_fen=500_000,
        paid_fen=500_000,
        purpose="助学金",
        category="charitable",
        payee_bank_account="学校基本户",
        status="paid",
        **common,
    )
    Disbursement.objects.create(
        number="DB-2",
        fund=fund,
        payee=school,
        amount_fen=100,
        purpose="已确认",
        category="charitable",
        payee_bank_account="-",
        status="signed_off",
        **common,
    )
    warehouse = Warehouse.objects.create(branch=personas.tree.siming, name="思明备灾仓库", code="SM01")
    DistributionOrder.objects.create(
        number="DO-1", warehouse=warehouse, recipient=school, purpose="书包发放", status="issued", **common
    )
    items = awaiting_signoff(user=representative)
    assert [(i.kind, i.number) for i in items] == [("money", "DB-1"), ("goods", "DO-1")]
    assert all(i.url.startswith("http") for i in items)
    page = signed_in_client(representative).get(reverse("recipients:portal"), **EN).content.decode()
    assert "DB-1" in page
    assert "DO-1" in page
    assert "已确认" not in page
    assert awaiting_signoff(user=personas.public) == []
