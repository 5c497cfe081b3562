"""Anonymous visitors get a cached disclosure page until anything public changes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas
from rendao.disclosure.services import disclosure_publish
from rendao.disclosure.tests.helpers import draft
from rendao.disclosure.views_public import LOG_SIZE_KEY
from rendao.funds.tests.factories import donate, open_project, pay

pytestmark = pytest.mark.django_db


def english() -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def a_second_passes() -> None:
    # The log's size is re-read at most once a second; this is that second passing.
    cache.delete(LOG_SIZE_KEY)


def test_a_repeated_visit_costs_no_query_and_a_new_gift_shows_within_a_second(personas: Personas) -> None:
    project = open_project(personas.tree.city, personas.finance)
    pay(donate(project, amount_fen=12_300))
    url = reverse("disclosure:open_project", kwargs={"pk": project.pk})
    client = english()
    first = client.get(url)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.content == first.content
    assert len(queries) == 0
    pay(donate(project, amount_fen=45_600))
    a_second_passes()
    with CaptureQueriesContext(connection) as queries:
        assert "¥579.00" in client.get(url).content.decode()
    assert len(queries) > 1  # rendered afresh


def test_a_publication_shows_within_a_second_on_the_society_page(personas: Personas) -> None:
    url = reverse("disclosure:open_society")
    client = english()
    assert "第三季度进展" not in client.get(url).content.decode()
    disclosure_publish(actor=personas.finance, disclosure=draft(personas.finance, personas.tree.city))
    a_second_passes()
    assert "第三季度进展" in client.get(url).content.decode()


def test_each_language_has_its_own_copy(personas: Personas) -> None:
    url = reverse("disclosure:open_society")
    english_page = english().get(url).content.decode()
    chinese = Client()
    chinese.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    chinese_page = chinese.get(url).content.decode()
    assert '<html lang="en">' in english_page
    assert '<html lang="zh-hans">' in chinese_page


def test_signed_in_visitors_and_query_strings_are_never_served_a_shared_copy(personas: Personas) -> None:
    from rendao.conftest import signed_in_client

    project = open_project(personas.tree.city, personas.finance)
    url = reverse("disclosure:open_project", kwargs={"pk": project.pk})
    english().get(url)
    staff = signed_in_client(personas.finance)
    with CaptureQueriesContext(connection) as queries:
        assert staff.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    assert len(queries) > 1
    with CaptureQueriesContext(connection) as queries:
        assert english().get(url + "?x=1").status_code == 200
    assert len(queries) > 1
