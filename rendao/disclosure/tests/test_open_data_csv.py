"""The CSV exports: whole datasets streamed as UTF-8 with a BOM, the same rows as the JSON pages."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from rendao.conftest import Personas
from rendao.disclosure.open_data import DATASETS, Filters, stream_csv
from rendao.disclosure.tests.open_data_world import World, all_items, build_world, client, csv_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas) -> World:
    return build_world(personas)


def rows(name: str, query: str = "") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text(name, query))))


def test_a_download_is_a_streamed_attachment_with_a_bom_and_a_header(world: World) -> None:
    response = client().get("/open/data/donations.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="rendao-donations-')
    assert "public" in response["Cache-Control"]
    data = response.getvalue()
    assert data.startswith(b"\xef\xbb\xbfid,project_id,paid_on,amount_fen,refunded_fen,public_name,")
    assert data.endswith(b"\r\n")


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_csv_holds_the_same_rows_as_the_json_pages(world: World, name: str) -> None:
    items = all_items(name)
    exported = rows(name)
    assert [r["id"] for r in exported] == [str(i["id"]) for i in items]
    assert list(exported[0]) == list(DATASETS[name].fields)


def test_amounts_are_whole_fen_and_empty_values_are_empty(world: World) -> None:
    exported = {r["id"]: r for r in rows("donations")}
    named = exported[str(world.named.pk)]
    assert named["amount_fen"] == "20000"
    assert named["co_initiator_id"] == ""
    assert exported[str(world.partnered.pk)]["co_initiator_id"] == str(world.co_initiator.pk)
    disbursement = rows("disbursements")[0]
    assert disbursement["related_party"] == "false"
    assert disbursement["amount_fen"] == "50000"


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused(world: World) -> None:
    # Only in the CSV: the JSON keeps the published title exactly.
    assert rows("disclosures")[0]["title"] == "'=第三季度进展"
    assert all_items("disclosures")[0]["title"] == "=第三季度进展"


def test_figures_are_one_json_cell(world: World) -> None:
    assert rows("disclosures")[0]["figures"] == '{"received":90000,"spent":10000}'


def test_filters_work_as_in_the_api(world: World, personas: Personas) -> None:
    assert [r["id"] for r in rows("donations", f"?project={world.project.pk}")] == [
        str(i["id"]) for i in all_items("donations", project=world.project.pk)
    ]
    assert rows("donations", f"?project={world.project.pk + 1000}") == []
    assert rows("donations", "?until=2000-01-01") == []


def test_an_empty_dataset_is_just_the_header(db: None) -> None:
    assert csv_text("disbursements") == ",".join(DATASETS["disbursements"].fields) + "\r\n"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?project=abc", "project", "Give the project as a positive whole number."),
        ("?project=0", "project", "Give the project as a positive whole number."),
        ("?project=9223372036854775808", "project", "Give the project as a positive whole number."),
        ("?since=2026-13-01", "since", "Give the date as YYYY-MM-DD."),
        ("?until=1.5.2026", "until", "Give the date as YYYY-MM-DD."),
        ("?since=2026-05-02&until=2026-05-01", "until", "The end date is before the start date."),
    ],
)
def test_bad_filters_are_a_422_in_the_api_error_shape(db: None, query: str, field: str, message: str) -> None:
    response = client().get(f"/open/data/donations.csv{query}")
    assert response.status_code == 422
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["details"] == [{"loc": ["query", field], "message": message, "type": "value_error"}]


def test_a_filter_the_dataset_cannot_take_is_refused(db: None) -> None:
    response = client().get("/open/data/checkpoints.csv?project=1")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["message"] == "This dataset cannot be filtered by project."


def test_an_unknown_dataset_is_a_404(db: None) -> None:
    response = client().get("/open/data/donors.csv")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_only_get_is_allowed(db: None) -> None:
    assert client().post("/open/data/donations.csv").status_code == 405


def test_the_plain_function_refuses_before_producing_anything(db: None) -> None:
    with pytest.raises(KeyError):
        stream_csv("donors")
    with pytest.raises(ValidationError):
        stream_csv("checkpoints", Filters(project=1))


def test_the_plain_function_produces_the_same_bytes_as_the_url(world: World) -> None:
    via_url = client().get("/open/data/goods_moves.csv").getvalue()
    assert b"".join(stream_csv("goods_moves")) == via_url
    assert b"".join(stream_csv("goods_moves", chunk_size=1)) == via_url
