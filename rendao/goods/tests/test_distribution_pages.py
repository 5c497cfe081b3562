"""Staff pages of distribution orders: new order, FEFO preview then issue, signed form, shortfall close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, signed_in_client
from rendao.goods import distribution
from rendao.goods.models import DistributionOrder, OrderSignoff, OrderStatus, Pick
from rendao.goods.tests import goods_factory as f

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def url(name: str, *args: object) -> str:
    return reverse(f"goods_distribution:{name}", args=args)


def test_a_branch_admin_requests_an_order_from_the_page(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    client = signed_in_client(personas.siming_staff)
    assert client.get(url("order_create"), HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    data = {"warehouse": s.wh.pk, "recipient": s.school.pk, "purpose": "新学期", "lines": "书包 |  | 个 | 20"}
    response = client.post(url("order_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    order = DistributionOrder.objects.get()
    assert order.lines.get().quantity == 20
    listing = client.get(url("order_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert order.number in listing.content.decode()
    assert client.get(url("order_detail", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 200


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("书包 | 个 | 20", "item | specification | unit | quantity"),
        ("书包 |  | 个 | twenty", "whole number"),
        ("书包 |  | 个 | 31", "Only 30 个 of 书包"),
        ("", "This field is required"),
    ],
)
def test_bad_order_input_is_refused_and_changes_nothing(personas: Personas, lines: str, message: str) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    client = signed_in_client(personas.siming_staff)
    data = {"warehouse": s.wh.pk, "recipient": s.school.pk, "purpose": "新学期", "lines": lines}
    response = client.post(url("order_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DistributionOrder.objects.exists()


def test_staff_without_goods_manage_cannot_open_the_form(personas: Personas) -> None:
    client = signed_in_client(personas.auditor)
    assert client.get(url("order_create"), HTTP_ACCEPT_LANGUAGE="en").status_code == 403
    assert client.get(url("writeoff_create"), HTTP_ACCEPT_LANGUAGE="en").status_code == 403


def test_the_issue_page_previews_fefo_and_issues_on_post_only(personas: Personas) -> None:
    s = f.scene(personas)
    early = f.lot(s.wh, receiver=s.keeper, quantity=10, expires_on=TODAY + timedelta(days=2))
    f.lot(s.wh, receiver=s.keeper, quantity=10, expires_on=TODAY - timedelta(days=2))
    f.lot(s.wh, receiver=s.keeper, quantity=10)
    order = f.approved_order(s, lines=[("书包", "", "个", 15)])
    client = signed_in_client(s.keeper)
    preview = client.get(url("order_issue", order.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert preview.status_code == 200
    assert early.number in preview.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    assert not Pick.objects.exists()
    done = client.post(url("order_issue", order.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED
    again = client.post(url("order_issue", order.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400
    assert Pick.objects.count() == 2
    assert f.lot_identity_holds()


def test_out_of_scope_staff_get_404_and_readers_403_on_writes(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    order = f.approved_order(s, lines=[("书包", "", "个", 5)])
    huli = signed_in_client(personas.huli_staff)
    assert huli.get(url("order_detail", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 404
    assert huli.post(url("order_issue", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 404
    auditor = signed_in_client(personas.auditor)
    assert auditor.get(url("order_detail", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    assert auditor.post(url("order_issue", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED


def test_staff_upload_the_signed_form_and_close_a_shortfall(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    order = f.approved_order(s, lines=[("书包", "", "个", 20)])
    distribution.order_issue(actor=s.keeper, order=order)
    pick = distribution.picks_of(order)[0]
    client = signed_in_client(s.keeper)
    detail = client.get(url("order_detail", order.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert "/inst/goods/" in detail.content.decode()
    # Bad input: no file, too many received, a file that is not a PDF.
    for data in (
        {f"received_{pick.pk}": "18"},
        {f"received_{pick.pk}": "21", "form_file": SimpleUploadedFile("f.pdf", PDF)},
        {f"received_{pick.pk}": "18", "form_file": SimpleUploadedFile("f.pdf", b"nope")},
    ):
        response = client.post(url("order_signoff_upload", order.pk), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
    assert not OrderSignoff.objects.exists()
    data = {f"received_{pick.pk}": "18", "note": "纸质签收单", "form_file": SimpleUploadedFile("f.pdf", PDF)}
    response = client.post(url("order_signoff_upload", order.pk), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHORTFALL
    assert OrderSignoff.objects.get().by_staff_upload
    empty = client.post(url("order_close", order.pk), {"findings": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert empty.status_code == 400
    closed = client.post(url("order_close", order.pk), {"findings": "运输丢失"}, HTTP_ACCEPT_LANGUAGE="en")
    assert closed.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED


def test_get_never_issues_or_signs(personas: Personas) -> None:
    s = f.scene(personas)
    f.lot(s.wh, receiver=s.keeper, quantity=30)
    order = f.approved_order(s, lines=[("书包", "", "个", 5)])
    client = signed_in_client(s.keeper)
    assert client.get(url("order_close", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 405
    assert client.get(url("order_signoff_upload", order.pk), HTTP_ACCEPT_LANGUAGE="en").status_code == 405
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
