"""Open data publishes what the public pages publish, and nothing personal."""

from __future__ import annotations

import csv
import io

import pytest

from rendao.conftest import Personas
from rendao.disclosure.open_data import DATASETS
from rendao.disclosure.tests.open_data_world import World, all_items, build_world, client, csv_text
from rendao.privacy.detect import find_pii

pytestmark = pytest.mark.django_db

# Words that would name a personal or internal column if one were ever added.
FORBIDDEN_COLUMN_WORDS = (
    "mobile", "phone", "donor_name", "address", "bank", "user", "actor", "ip",
    "token", "commitment", "salt", "out_trade_no", "txn", "idempotency", "by",
)  # fmt: skip


@pytest.fixture
def world(personas: Personas) -> World:
    return build_world(personas)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_no_dataset_holds_personal_data_in_json_or_csv(world: World, name: str) -> None:
    items = all_items(name)
    text_json = client().get(f"/api/v1/open/datasets/{name}?limit=1000").content.decode()
    text_csv = csv_text(name)
    assert items, "every dataset has a row in this world, so the check is not vacuous"
    for secret in world.secrets():
        assert secret not in text_json, (name, secret)
        assert secret not in text_csv, (name, secret)
    assert find_pii(text_json) == []
    assert find_pii(text_csv) == []


def test_no_column_is_named_like_personal_or_internal_data() -> None:
    for dataset in DATASETS.values():
        for column in dataset.fields:
            parts = column.split("_")
            assert not any(word in parts or word == column for word in FORBIDDEN_COLUMN_WORDS), (
                dataset.name,
                column,
            )


def test_donors_appear_only_by_their_public_name(world: World) -> None:
    names = {item["id"]: item["public_name"] for item in all_items("donations")}
    assert names == {
        world.named.pk: world.named.public_name,
        world.anonymous.pk: "爱心人士",
        world.partnered.pk: world.partnered.public_name,
    }
    assert world.named.public_name != world.named.donor_name


def test_unpaid_late_and_unpublished_donations_are_left_out(world: World) -> None:
    ids = {item["id"] for item in all_items("donations")}
    assert world.unpaid.pk not in ids
    assert world.flagged.pk not in ids
    assert world.hidden.pk not in ids
    csv_ids = {row["id"] for row in csv.DictReader(io.StringIO(csv_text("donations")))}
    assert csv_ids == {str(i) for i in ids}


def test_projects_not_yet_public_are_left_out(world: World) -> None:
    assert [item["id"] for item in all_items("projects")] == [world.project.pk]


def test_published_donations_add_up_to_the_projects_published_total(world: World) -> None:
    project = all_items("projects", project=world.project.pk)[0]
    donations = all_items("donations", project=world.project.pk)
    totals = all_items("daily_totals", project=world.project.pk)
    assert sum(d["amount_fen"] - d["refunded_fen"] for d in donations) == project["raised_fen"] == 90_000
    assert sum(t["received_fen"] - t["refunded_fen"] for t in totals) == project["raised_fen"]
    assert len(donations) == project["donation_count"]


def test_daily_totals_name_the_co_initiating_organisation(world: World) -> None:
    partners = {(t["partner_id"], t["partner_name"]) for t in all_items("daily_totals")}
    assert partners == {(0, ""), (world.co_initiator.pk, "厦门爱心基金会")}
