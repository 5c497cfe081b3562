"""/inst/goods/<token>/: the representative signs off; anyone else gets a 403 page and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.goods import distribution
from rendao.goods.models import DistributionOrder, OrderSignoff, OrderStatus
from rendao.goods.tests import goods_factory as f

pytestmark = pytest.mark.django_db


def issued(s: f.Scene) -> DistributionOrder:
    f.lot(s.wh, receiver=s.keeper, quantity=60)
    order = f.approved_order(s, lines=[("书包", "", "个", 50)])
    distribution.order_issue(actor=s.keeper, order=order)
    order.refresh_from_db()
    return order


def path(order: DistributionOrder) -> str:
    return reverse("goods_distribution:inst_signoff", args=[distribution.signoff_token(order)])


def test_the_representative_sees_the_picks_and_signs_off(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    client = signed_in_client(s.rep, verified=False)
    page = client.get(path(order), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    pick = distribution.picks_of(order)[0]
    assert pick.lot.number in page.content.decode()
    answer = client.post(
        path(order), {f"received_{pick.pk}": "48", "note": "少2个"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHORTFALL
    assert OrderSignoff.objects.get(order=order).signed_by_id == s.rep.pk


@pytest.mark.parametrize("who", ["public", "siming_staff", "other_rep"])
def test_anyone_else_gets_a_403_page_and_nothing_changes(personas: Personas, who: str) -> None:
    s = f.scene(personas)
    order = issued(s)
    if who == "other_rep":
        user = f.representative(
            f.institution(personas.tree.siming, "另一所学校"), personas.siming_staff, "r2"
        )
    else:
        user = getattr(personas, who)
    client = signed_in_client(user, verified=False)
    pick = distribution.picks_of(order)[0]
    for response in (
        client.get(path(order), HTTP_ACCEPT_LANGUAGE="en"),
        client.post(path(order), {f"received_{pick.pk}": "50"}, HTTP_ACCEPT_LANGUAGE="en"),
    ):
        assert response.status_code == 403
        assert "Only a representative of" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    assert not OrderSignoff.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    response = Client().get(path(order), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302


def test_bad_input_is_refused_with_the_form(personas: Personas) -> None:
    s = f.scene(personas)
    order = issued(s)
    client = signed_in_client(s.rep, verified=False)
    pick = distribution.picks_of(order)[0]
    for data in (
        {f"received_{pick.pk}": "51"},
        {f"received_{pick.pk}": "-1"},
        {f"received_{pick.pk}": "abc"},
        {},
    ):
        response = client.post(path(order), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    assert not OrderSignoff.objects.exists()


def test_a_forged_link_is_refused(personas: Personas) -> None:
    s = f.scene(personas)
    client = signed_in_client(s.rep, verified=False)
    response = client.get("/inst/goods/forged-token/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
