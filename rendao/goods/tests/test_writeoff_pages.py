"""Staff pages of write-offs: request, list, detail; bad input and out-of-scope access."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rendao.approvals.models import Outcome
from rendao.approvals.services import request_decide
from rendao.conftest import Personas, signed_in_client
from rendao.goods import distribution, writeoffs
from rendao.goods.models import WriteOff, WriteOffReason
from rendao.goods.tests import goods_factory as f

pytestmark = pytest.mark.django_db


def url(name: str, *args: object) -> str:
    return reverse(f"goods_distribution:{name}", args=args)


def test_a_write_off_is_requested_listed_and_shown(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=10)
    client = signed_in_client(s.keeper)
    assert client.get(url("writeoff_create"), HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    data = {"warehouse": s.wh.pk, "lot": lot.pk, "quantity": "4", "reason": "damaged", "explanation": "受潮"}
    response = client.post(url("writeoff_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    writeoff = WriteOff.objects.get()
    assert writeoff.number in client.get(url("writeoff_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    detail = client.get(url("writeoff_detail", writeoff.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    assert lot.number in detail.content.decode()
    huli = signed_in_client(personas.huli_staff)
    assert huli.get(url("writeoff_detail", writeoff.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": "11"}, "Only 10"),
        ({"quantity": "0"}, "greater than or equal to 1"),
        ({"reason": "stolen"}, "Select a valid choice"),
        ({"explanation": ""}, "This field is required"),
    ],
)
def test_bad_write_off_input_is_refused(personas: Personas, changes: dict[str, str], message: str) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=10)
    client = signed_in_client(s.keeper)
    data = {
        "warehouse": s.wh.pk,
        "lot": lot.pk,
        "quantity": "4",
        "reason": "damaged",
        "explanation": "受潮",
        **changes,
    }
    response = client.post(url("writeoff_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WriteOff.objects.exists()


def test_the_approver_sees_why_an_approval_failed_when_the_stock_is_gone(personas: Personas) -> None:
    s = f.scene(personas)
    lot = f.lot(s.wh, receiver=s.keeper, quantity=10)
    writeoff = writeoffs.writeoff_request(
        actor=s.keeper, warehouse=s.wh, lot=lot, quantity=8, reason=WriteOffReason.LOST, explanation="丢失"
    )
    request = writeoff.approval_request
    assert request is not None
    request_decide(actor=personas.siming_staff, request=request, outcome=Outcome.APPROVE)
    order = f.approved_order(s, lines=[("书包", "", "个", 5)])
    distribution.order_issue(actor=s.keeper, order=order)
    request.refresh_from_db()
    client = signed_in_client(personas.city_staff)
    response = client.post(
        reverse("approvals:decide", args=[request.pk]),
        {"outcome": "approve", "comment": "", "step": request.current_step_id},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Only 5 个 of lot" in response.content.decode()
    writeoff.refresh_from_db()
    request.refresh_from_db()
    assert writeoff.status == "requested"
    assert request.status == "pending"
    assert f.lot_identity_holds()
