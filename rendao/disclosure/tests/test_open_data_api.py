"""The open data JSON API: keyset pages, caching headers, filters, and refusals in the one error shape."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rendao.conftest import Personas
from rendao.disclosure.open_data import DATASETS
from rendao.disclosure.tests.open_data_world import World, all_items, build_world, client
from rendao.funds.models import Donation, DonationStatus
from rendao.funds.tests.factories import open_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas) -> World:
    return build_world(personas)


def paid_donations(project: Any, count: int) -> list[int]:
    now = timezone.now()
    rows = Donation.objects.bulk_create(
        Donation(
            out_trade_no=f"OD{project.pk:04d}{i:08d}",
            project=project,
            branch_id=project.branch_id,
            channel="sandbox",
            amount_fen=100 + i,
            status=DonationStatus.PAID,
            public_name="爱心人士",
            follow_token=f"open-data-{project.pk}-{i}",
            expires_at=now,
            paid_at=now - timedelta(days=i % 5),
        )
        for i in range(count)
    )
    return sorted(d.pk for d in rows)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code
    return body


def test_the_index_lists_every_dataset_with_its_fields_urls_and_licence(db: None) -> None:
    response = client().get("/api/v1/open/datasets")
    assert response.status_code == 200
    body = response.json()
    assert body["licence"] == {
        "name": "CC BY 4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
        "attribution": "厦门市红十字会 / rendao",
    }
    by_name = {d["name"]: d for d in body["datasets"]}
    assert set(by_name) == set(DATASETS)
    donations = by_name["donations"]
    assert donations["json_url"] == "http://testserver/api/v1/open/datasets/donations"
    assert donations["csv_url"] == "http://testserver/open/data/donations.csv"
    assert donations["filters"] == ["project", "since", "until"]
    assert [f["name"] for f in donations["fields"]][:2] == ["id", "project_id"]
    assert by_name["checkpoints"]["filters"] == ["since", "until"]


def test_the_licence_comes_from_the_settings(db: None, settings: Any) -> None:
    settings.OPEN_DATA_LICENCE = "ODbL 1.0"
    body = client().get("/api/v1/open/datasets/projects").json()
    assert body["licence"]["name"] == "ODbL 1.0"
    assert body["dataset"] == "projects"


def test_pagination_walks_every_row_exactly_once_in_id_order(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.siming_staff)
    ids = paid_donations(project, 23)
    seen: list[int] = []
    pages = 0
    url: str | None = "/api/v1/open/datasets/donations?limit=5"
    while url is not None:
        body = client().get(url).json()
        assert len(body["items"]) <= 5
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
        pages += 1
    assert seen == ids
    assert pages == 5
    assert [i["id"] for i in all_items("donations", limit=1000)] == ids


def test_the_next_url_keeps_the_limit_and_filters(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.siming_staff)
    ids = paid_donations(project, 4)
    body = client().get(f"/api/v1/open/datasets/donations?limit=2&project={project.pk}").json()
    assert body["next"] == (
        f"http://testserver/api/v1/open/datasets/donations?after={ids[1]}&limit=2&project={project.pk}"
    )
    last = client().get(body["next"]).json()
    assert [i["id"] for i in last["items"]] == ids[2:]
    assert last["next"] is None


def test_a_page_past_the_end_is_empty_with_no_next(world: World) -> None:
    body = client().get("/api/v1/open/datasets/donations?after=999999").json()
    assert body["items"] == []
    assert body["next"] is None


def test_pages_are_publicly_cacheable_and_answer_304_to_a_matching_etag(world: World) -> None:
    response = client().get("/api/v1/open/datasets/projects")
    assert "public" in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]
    etag = response["ETag"]
    again = client().get("/api/v1/open/datasets/projects", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    other = client().get("/api/v1/open/datasets/projects", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_the_etag_changes_when_the_data_does(world: World) -> None:
    before = client().get("/api/v1/open/datasets/projects")["ETag"]
    world.project.raised_fen += 1
    world.project.save(update_fields=["raised_fen"])
    after = client().get("/api/v1/open/datasets/projects", HTTP_IF_NONE_MATCH=before)
    assert after.status_code == 200
    assert after["ETag"] != before


def test_the_project_filter_keeps_that_projects_rows(world: World, personas: Personas) -> None:
    other = open_project(personas.tree.huli, personas.huli_staff, title="另一个项目")
    paid_donations(other, 3)
    mine = all_items("donations", project=world.project.pk)
    assert {i["project_id"] for i in mine} == {world.project.pk}
    assert len(mine) == 3
    assert [i["id"] for i in all_items("projects", project=other.pk)] == [other.pk]
    assert [i["id"] for i in all_items("disclosures", project=other.pk)] == []
    payments = all_items("disbursement_payments", project=world.project.pk)
    assert [i["id"] for i in payments] == [world.payment.pk]


def test_since_and_until_are_china_days(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.siming_staff)
    paid_donations(project, 10)  # paid today and on each of the four days before
    today = timezone.localdate()
    two_days = all_items("donations", since=(today - timedelta(days=1)).isoformat())
    assert {i["paid_on"] for i in two_days} == {today.isoformat(), (today - timedelta(days=1)).isoformat()}
    assert len(two_days) == 4
    one_day = all_items("donations", since=(today - timedelta(days=3)).isoformat(),
                        until=(today - timedelta(days=3)).isoformat())  # fmt: skip
    assert {i["paid_on"] for i in one_day} == {(today - timedelta(days=3)).isoformat()}
    assert len(one_day) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=abc", "after"),
        ("after=-1", "after"),
        ("after=9223372036854775808", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("project=0", "project"),
        ("project=x", "project"),
        ("project=99999999999999999999", "project"),
        ("since=2026-02-30", "since"),
        ("until=yesterday", "until"),
        ("since=2026-05-02&until=2026-05-01", "until"),
    ],
)
def test_bad_parameters_are_a_422_naming_the_parameter(world: World, query: str, field: str) -> None:
    body = error(client().get(f"/api/v1/open/datasets/donations?{query}"), 422, "validation_error")
    assert body["message"] == "The request is not valid."
    assert [d["loc"] for d in body["details"]] == [["query", field]]


def test_filters_a_dataset_has_no_column_for_are_refused(world: World) -> None:
    body = error(client().get("/api/v1/open/datasets/checkpoints?project=1"), 422, "validation_error")
    assert body["details"][0]["message"] == "This dataset cannot be filtered by project."
    assert body["details"][0]["loc"] == ["query", "project"]


def test_an_unknown_dataset_is_a_404_in_the_api_error_shape(db: None) -> None:
    error(client().get("/api/v1/open/datasets/donors"), 404, "not_found")
    error(client().get("/api/v1/open/datasets/donations.csv"), 404, "not_found")


def test_writes_are_not_allowed(db: None) -> None:
    error(client().post("/api/v1/open/datasets/projects"), 405, "method_not_allowed")


def test_every_dataset_answers_its_listed_fields_in_order(world: World) -> None:
    for name, dataset in DATASETS.items():
        items = all_items(name)
        assert items, name
        assert all(list(item) == list(dataset.fields) for item in items), name
