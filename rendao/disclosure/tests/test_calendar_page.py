"""The staff disclosure calendar page: what it shows, to whom, for which branch, and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.models import Role
from rendao.core.workbench import SESSION_BRANCH_KEY
from rendao.disclosure.tests.test_due_builders import MAJOR_FEN, Scene, scene

pytestmark = pytest.mark.django_db

URL = "/staff/disclosures/calendar/"


@pytest.fixture
def world(personas: Personas, settings: Any) -> Scene:
    settings.DISCLOSURE_MAJOR_TRANSACTION_FEN = MAJOR_FEN
    return scene(personas)


def get(client: Client, **query: Any) -> Any:
    return client.get(URL, query, HTTP_ACCEPT_LANGUAGE="en")


def test_the_url_is_the_calendar_of_the_disclosure_namespace() -> None:
    assert reverse("disclosure:calendar") == URL


def test_the_page_lists_every_item_with_its_status_and_a_link_to_draft_it(
    personas: Personas, world: Scene
) -> None:
    client = signed_in_client(world.siming_finance)
    response = get(client, branch=personas.tree.siming.pk, date="2025-08-15")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-status="overdue"') == 8
    assert page.count('data-status="due_soon"') == 1
    assert page.count('data-status="done"') == 1
    assert "8 overdue, 1 due soon, 6 due, 1 done" in page
    assert "爱心小书包 2025" in page
    assert "Quarterly progress (Charity Law Art 79)" in page
    assert "Annual audit report" in page
    assert '<span class="rd-tag">Due soon</span>' in page
    assert "嘉莲街道红十字会" in page  # the street's project names its branch
    assert (
        f'href="/staff/disclosures/new/?kind=progress_quarterly&amp;project={world.long.pk}'
        '&amp;start=2025-01-01&amp;end=2025-03-31"'
    ) in page
    assert (
        f'href="/staff/disclosures/new/?kind=annual_audit&amp;start=2024-01-01&amp;end=2024-12-31'
        f'&amp;branch={personas.tree.siming.pk}"'
    ) in page
    # Nothing to draft for what is done: 15 links for 16 items.
    assert page.count('href="/staff/disclosures/new/') == 15


def test_a_late_publication_is_flagged(personas: Personas, world: Scene) -> None:
    from datetime import date

    from rendao.disclosure.tests.test_due_builders import published

    published(
        world.siming_finance,
        personas.tree.siming,
        kind="annual_audit",
        start=date(2024, 1, 1),
        end=date(2024, 12, 31),
        on=date(2025, 8, 1),
    )
    page = get(
        signed_in_client(world.siming_finance), branch=personas.tree.siming.pk, date="2025-08-15"
    ).content.decode()
    assert page.count("data-late") == 1


def test_the_status_filter_narrows_the_list(personas: Personas, world: Scene) -> None:
    page = get(
        signed_in_client(world.siming_finance),
        branch=personas.tree.siming.pk,
        date="2025-08-15",
        status="overdue",
    ).content.decode()
    assert page.count('data-status="overdue"') == 8
    assert 'data-status="due"' not in page


def test_readers_without_the_finance_manage_permission_see_no_draft_links(
    personas: Personas, world: Scene
) -> None:
    response = get(signed_in_client(personas.auditor), branch=personas.tree.siming.pk, date="2025-08-15")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-status="overdue"') == 8
    assert "/staff/disclosures/new/" not in page


def test_the_page_defaults_to_the_branch_chosen_in_the_switcher(personas: Personas, world: Scene) -> None:
    client = signed_in_client(personas.finance)
    session = client.session
    session[SESSION_BRANCH_KEY] = personas.tree.street.pk
    session.save()
    page = get(client, date="2025-08-15").content.decode()
    # The street's subtree: its emergency project only.
    assert "台风应急" in page
    assert "爱心小书包 2025" not in page
    assert page.count("data-status=") == 4


def test_the_city_sees_the_whole_tree_and_a_district_only_its_own(personas: Personas, world: Scene) -> None:
    city = get(
        signed_in_client(personas.finance), branch=personas.tree.city.pk, date="2025-08-15"
    ).content.decode()
    assert "爱心小书包 2025" in city
    assert personas.tree.huli.name in city  # 湖里's annual report is due too
    huli_finance = make_staff("huli_finance", personas.tree.huli, Role.FINANCE)
    huli = get(signed_in_client(huli_finance), date="2025-08-15").content.decode()
    assert "爱心小书包 2025" not in huli
    assert personas.tree.huli.name in huli


def test_a_branch_out_of_scope_looks_absent(personas: Personas, world: Scene) -> None:
    response = get(signed_in_client(world.siming_finance), branch=personas.tree.huli.pk)
    assert response.status_code == 404
    assert get(signed_in_client(world.siming_finance), branch=999_999).status_code == 404


def test_staff_without_finance_permissions_are_refused(personas: Personas, world: Scene) -> None:
    for user in (personas.siming_staff, personas.reviewer, personas.sysadmin):
        assert get(signed_in_client(user)).status_code == 403
    assert get(signed_in_client(personas.public)).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302
    assert "signin" in response["Location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date": "2025-13-01"}, "Enter a date as YYYY-MM-DD, for example 2026-05-31."),
        ({"date": "15/08/2025"}, "Enter a date as YYYY-MM-DD, for example 2026-05-31."),
        ({"branch": "abc"}, "Select a valid choice."),
        ({"branch": "-1"}, "Select a valid choice."),
        ({"status": "late"}, "Select a valid choice."),
    ],
)
def test_malformed_input_is_refused_with_the_reason(
    personas: Personas, world: Scene, query: dict[str, str], message: str
) -> None:
    response = get(signed_in_client(world.siming_finance), **query)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "data-status=" not in page


def test_the_page_makes_the_same_number_of_queries_for_a_bigger_subtree(
    personas: Personas, world: Scene
) -> None:
    from datetime import date

    from rendao.disclosure.tests.test_due_builders import paid, project, published

    client = signed_in_client(personas.finance)
    query = {"branch": personas.tree.city.pk, "date": "2025-08-15"}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        get(client, **query)
    by = world.siming_finance
    for n, branch in enumerate((personas.tree.huli, personas.tree.school, personas.tree.community)):
        p = project(branch, by, title=f"项目{n}", start=date(2025, 1, 1), end=date(2025, 12, 31))
        paid(p, by, paid_on=date(2025, 6, 1), related=True)
        published(
            by,
            branch,
            kind="progress_quarterly",
            project=p,
            start=date(2025, 1, 1),
            end=date(2025, 3, 31),
            on=date(2025, 4, 1),
        )
    with CaptureQueriesContext(connection) as big:
        get(client, **query)
    assert len(big.captured_queries) == len(small.captured_queries)
