"""The /open/data/ page tells a citizen what there is, how to fetch it and under which licence."""

from __future__ import annotations

from typing import Any

import pytest

from rendao.disclosure.open_data import DATASETS
from rendao.disclosure.tests.open_data_world import client

pytestmark = pytest.mark.django_db


def test_the_page_lists_every_dataset_with_its_fields_and_download_links(db: None) -> None:
    response = client().get("/open/data/")
    assert response.status_code == 200
    html = response.content.decode()
    for name, dataset in DATASETS.items():
        assert f'href="http://testserver/api/v1/open/datasets/{name}"' in html
        assert f'href="http://testserver/open/data/{name}.csv"' in html
        for column in dataset.fields:
            assert f"<code>{column}</code>" in html
    assert 'curl -s "http://testserver/api/v1/open/datasets"' in html
    assert 'curl -sO "http://testserver/open/data/donations.csv"' in html
    assert "public" in response["Cache-Control"]


def test_the_page_states_the_licence_and_attribution(db: None, settings: Any) -> None:
    settings.OPEN_DATA_LICENCE = "CC BY 4.0"
    settings.OPEN_DATA_ATTRIBUTION = "厦门市红十字会 / rendao"
    html = client().get("/open/data/").content.decode()
    assert "The data is published under CC BY 4.0." in html
    assert "厦门市红十字会 / rendao" in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in html


def test_the_page_only_answers_get(db: None) -> None:
    assert client().post("/open/data/").status_code == 405
