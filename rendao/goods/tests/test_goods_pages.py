"""The staff goods pages: scope, forms with bad input, and a stock page of constant queries."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from rendao.conftest import Personas, signed_in_client
from rendao.goods.models import Intake, Lot, Move, Stock, StockTake, Warehouse
from rendao.goods.tests.factories import line, one_lot, receive, soon, warehouse
from rendao.uploads.tests.files import png

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_home_page_lists_warehouses_in_scope_with_totals(personas: Personas) -> None:
    siming = warehouse(personas.siming_staff, personas.tree.siming, name="思明一号库")
    huli = warehouse(personas.huli_staff, personas.tree.huli, name="湖里一号库")
    one_lot(personas.siming_staff, siming, quantity=7, unit_value_fen=100)
    page = _client(personas.siming_staff).get(reverse("goods:home")).content.decode()
    assert siming.name in page
    assert huli.name not in page
    assert "7 units in stock" in page
    city = _client(personas.auditor).get(reverse("goods:home")).content.decode()
    assert siming.name in city
    assert huli.name in city
    assert "New warehouse" not in city


def test_a_warehouse_is_created_from_the_page_and_bad_input_changes_nothing(personas: Personas) -> None:
    client = _client(personas.siming_staff)
    bad = client.post(
        reverse("goods:warehouse_create"), {"branch": personas.tree.siming.pk, "name": "", "code": "x y"}
    )
    assert bad.status_code == 400
    assert Warehouse.objects.count() == 0
    other = client.post(reverse("goods:warehouse_create"), {"branch": personas.tree.huli.pk, "name": "库"})
    assert other.status_code == 400
    assert Warehouse.objects.count() == 0
    ok = client.post(
        reverse("goods:warehouse_create"), {"branch": personas.tree.siming.pk, "name": "思明备灾库"}
    )
    wh = Warehouse.objects.get()
    assert ok.status_code == 302
    assert wh.code == f"CK-{personas.tree.siming.pk}-01"


def test_huli_staff_cannot_see_or_act_on_siming_warehouses(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    lot = one_lot(personas.siming_staff, wh)
    huli_wh = warehouse(personas.huli_staff, personas.tree.huli)
    client = _client(personas.huli_staff)
    for url in (
        reverse("goods:warehouse_stock", kwargs={"pk": wh.pk}),
        reverse("goods:lot_detail", kwargs={"pk": lot.pk}),
        reverse("goods:intake_detail", kwargs={"pk": lot.intake_id}),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("goods:warehouse_close", kwargs={"pk": wh.pk})).status_code == 404
    assert client.post(reverse("goods:stocktake_open", kwargs={"pk": wh.pk})).status_code == 404
    moved = client.post(
        reverse("goods:transfer_create", kwargs={"pk": lot.pk}),
        {"source": wh.pk, "target": huli_wh.pk, "quantity": 1},
    )
    assert moved.status_code == 404
    assert Move.objects.filter(kind="transfer").count() == 0
    assert StockTake.objects.count() == 0
    wh.refresh_from_db()
    assert wh.is_active


def test_the_stock_page_filters_and_orders_by_expiry(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    receive(
        personas.siming_staff,
        wh,
        line(item_name="牛奶", expires_on=soon(200)),
        line(item_name="面包", expires_on=soon(5)),
        line(item_name="书包"),
    )
    client = _client(personas.siming_staff)
    url = reverse("goods:warehouse_stock", kwargs={"pk": wh.pk})
    page = client.get(url).content.decode()
    assert page.index("面包") < page.index("牛奶") < page.index("书包")
    soon_page = client.get(url, {"expiring": 30}).content.decode()
    assert "面包" in soon_page
    assert "牛奶" not in soon_page
    assert "书包" in client.get(url, {"item": "书"}).content.decode()
    assert client.get(url, {"expiring": "-1"}).status_code == 400
    assert client.get(url, {"page": "0"}).status_code == 404
    assert client.get(url, {"page": "x"}).status_code == 404


def _many_lots(wh: Warehouse, n: int, receiver: Any) -> None:
    # Rows written directly: this test is about the page's queries, not intake.
    intake = Intake.objects.create(
        number=f"RK-Q-{wh.pk}-{n}-{Intake.objects.count()}",
        branch=wh.branch,
        warehouse=wh,
        donor_kind="anonymous",
        public_name="爱心人士",
        received_on=soon(0),
        received_by=receiver,
    )
    lots = Lot.objects.bulk_create(
        [
            Lot(
                intake=intake,
                number=f"{intake.number}-{i}",
                item_name="水",
                unit="箱",
                quantity_received=1,
                quantity_on_hand=1,
                expires_on=soon(i % 30 + 1),
            )
            for i in range(n)
        ]
    )
    Stock.objects.bulk_create([Stock(lot=lot, warehouse=wh, quantity=1) for lot in lots])


def test_the_stock_page_makes_a_constant_number_of_queries(
    personas: Personas, django_assert_num_queries: Any
) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    client = _client(personas.siming_staff)
    url = reverse("goods:warehouse_stock", kwargs={"pk": wh.pk})
    _many_lots(wh, 5, personas.siming_staff)
    client.get(url)  # warm the session the same way for both sizes
    with django_assert_num_queries(12):
        assert client.get(url).content.decode().count("<tr>") == 5 + 1
    _many_lots(wh, 55, personas.siming_staff)
    with django_assert_num_queries(12):
        page = client.get(url).content.decode()
    assert page.count("<tr>") == 50 + 1
    assert "Next" in page


def _workbook(rows: list[list[object]]) -> SimpleUploadedFile:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile(
        "lines.xlsx",
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _intake_post(wh: Warehouse, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "warehouse": wh.pk,
        "donor_kind": "organisation",
        "organisation_name": "爱心企业",
        "received_on": soon(0).isoformat(),
        "receipt_wanted": "on",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-item_name": "书包",
        "lines-0-unit": "个",
        "lines-0-quantity": "600",
        "lines-0-unit_value_fen": "50.00",
    }
    data.update(extra)
    return data


def test_an_intake_is_recorded_from_the_form_with_a_photo(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    client = _client(personas.siming_staff)
    assert client.get(reverse("goods:intake_create")).status_code == 200
    photo = SimpleUploadedFile("goods.png", png(), content_type="image/png")
    response = client.post(reverse("goods:intake_create"), _intake_post(wh, photos=[photo]))
    assert response.status_code == 302
    intake = Intake.objects.get()
    assert intake.value_fen == 600 * 5_000
    assert intake.photos.count() == 1
    detail = client.get(response["Location"]).content.decode()
    assert intake.number in detail
    assert "书包" in detail


def test_an_intake_is_recorded_from_a_workbook(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    client = _client(personas.siming_staff)
    book = _workbook([["物品", "单位", "数量", "单价(元)"], ["口罩", "盒", 50, "12.5"], ["水", "箱", 10, 20]])
    response = client.post(
        reverse("goods:intake_create"), _intake_post(wh, workbook=book, **{"lines-0-item_name": ""})
    )
    assert response.status_code == 302
    assert sorted(Lot.objects.values_list("item_name", "unit_value_fen")) == [("口罩", 1250), ("水", 2000)]


@pytest.mark.parametrize(
    "extra",
    [
        {"lines-0-quantity": "0"},
        {"lines-0-quantity": "abc"},
        {"lines-0-unit_value_fen": "1.234"},
        {"donor_kind": "person", "organisation_name": ""},
        {"donor_kind": "person", "organisation_name": "", "donor_name": "张三", "donor_mobile": "123"},
        {"lines-0-expires_on": "2000-01-01"},
        {"received_on": "2999-01-01"},
        {"warehouse": "999999"},
    ],
)
def test_bad_intake_input_is_refused_and_changes_nothing(personas: Personas, extra: dict[str, str]) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    response = _client(personas.siming_staff).post(reverse("goods:intake_create"), _intake_post(wh, **extra))
    assert response.status_code == 400
    assert Intake.objects.count() == 0
    assert Lot.objects.count() == 0


def test_a_bad_workbook_names_its_row(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    book = _workbook([["物品", "单位", "数量"], ["口罩", "盒", 5], ["水", "箱", "many"]])
    response = _client(personas.siming_staff).post(
        reverse("goods:intake_create"), _intake_post(wh, workbook=book)
    )
    assert response.status_code == 400
    assert "Row 3" in response.content.decode()
    assert Intake.objects.count() == 0


def test_a_transfer_from_the_lot_page(personas: Personas) -> None:
    a = warehouse(personas.siming_staff, personas.tree.siming)
    b = warehouse(personas.siming_staff, personas.tree.siming)
    lot = one_lot(personas.siming_staff, a, quantity=10)
    client = _client(personas.siming_staff)
    page = client.get(reverse("goods:lot_detail", kwargs={"pk": lot.pk}))
    assert page.status_code == 200
    assert "Move to another warehouse" in page.content.decode()
    url = reverse("goods:transfer_create", kwargs={"pk": lot.pk})
    assert client.post(url, {"source": a.pk, "target": b.pk, "quantity": 11}).status_code == 400
    assert client.post(url, {"source": a.pk, "target": a.pk, "quantity": 1}).status_code == 400
    assert client.post(url, {"source": a.pk, "target": b.pk, "quantity": "-1"}).status_code == 400
    assert client.post(url, {"source": a.pk, "target": b.pk, "quantity": 4}).status_code == 302
    assert Stock.objects.get(lot=lot, warehouse=b).quantity == 4


def test_a_stocktake_from_the_pages(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    one_lot(personas.siming_staff, wh, quantity=10)
    client = _client(personas.siming_staff)
    opened = client.post(reverse("goods:stocktake_open", kwargs={"pk": wh.pk}))
    take = StockTake.objects.get()
    assert opened.status_code == 302
    assert opened["Location"] == reverse("goods:stocktake_detail", kwargs={"pk": take.pk})
    line_pk = take.lines.get().pk
    assert client.post(reverse("goods:stocktake_close", kwargs={"pk": take.pk})).status_code == 400
    count_url = reverse("goods:stocktake_count", kwargs={"pk": take.pk})
    assert client.post(count_url, {"line": line_pk, "counted": "-2"}).status_code == 400
    assert client.post(count_url, {"line": 999999, "counted": "2"}).status_code == 404
    assert client.post(count_url, {"line": line_pk, "counted": "9", "note": "少一箱"}).status_code == 302
    early = reverse("goods:stocktake_line_write_off", kwargs={"pk": take.pk, "line_pk": line_pk})
    assert client.post(early).status_code == 400
    assert client.post(reverse("goods:stocktake_close", kwargs={"pk": take.pk})).status_code == 302
    take.refresh_from_db()
    page = client.get(reverse("goods:stocktake_detail", kwargs={"pk": take.pk})).content.decode()
    assert take.status == "closed"
    assert "shortage" in page
    line = take.lines.get()
    write_off_url = reverse("goods:stocktake_line_write_off", kwargs={"pk": take.pk, "line_pk": line.pk})
    assert client.post(write_off_url).status_code == 302
    line.refresh_from_db()
    assert line.write_off is not None
    assert line.write_off.quantity == 1
    assert client.post(write_off_url).status_code == 400
    assert (
        line.write_off.number
        in client.get(reverse("goods:stocktake_detail", kwargs={"pk": take.pk})).content.decode()
    )
    assert (
        _client(personas.huli_staff)
        .get(reverse("goods:stocktake_detail", kwargs={"pk": take.pk}))
        .status_code
        == 404
    )


def test_get_never_changes_state_and_the_public_is_refused(personas: Personas) -> None:
    wh = warehouse(personas.siming_staff, personas.tree.siming)
    client = _client(personas.siming_staff)
    assert client.get(reverse("goods:stocktake_open", kwargs={"pk": wh.pk})).status_code == 405
    assert client.get(reverse("goods:warehouse_close", kwargs={"pk": wh.pk})).status_code == 405
    assert _client(personas.public).get(reverse("goods:home")).status_code == 403
    assert Client().get(reverse("goods:home")).status_code == 302
