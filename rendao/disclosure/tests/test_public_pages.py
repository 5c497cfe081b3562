"""The public disclosure pages and JSON: the scenario's numbers on every page, the
checks shown with both sides, versions and corrections, the donor list's pages,
bad ids and cursors, constant queries, and no personal data anywhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas
from rendao.disbursements.tests import factories as money
from rendao.disclosure.models import Disclosure
from rendao.disclosure.services import disclosure_correct, disclosure_publish
from rendao.disclosure.tests.helpers import draft
from rendao.disclosure.tests.test_figures import SECRET_MOBILE, SECRET_NAME, refund, scenario
from rendao.disclosure.views_public import DONORS_PER_PAGE, Cursor
from rendao.funds.models import Donation, FundraisingProject, ProjectStatus
from rendao.funds.tests.factories import donate, open_project, pay

pytestmark = pytest.mark.django_db


def english() -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def project_url(project: FundraisingProject) -> str:
    return reverse("disclosure:open_project", kwargs={"pk": project.pk})


def summary_url(project: FundraisingProject) -> str:
    return f"/api/v1/open/summary/projects/{project.pk}"


def html(response: Any) -> str:
    assert response.status_code == 200, response.content[:500]
    return str(response.content.decode())


def published_and_corrected(personas: Personas, project: FundraisingProject) -> tuple[Disclosure, Disclosure]:
    first = disclosure_publish(
        actor=personas.finance,
        disclosure=draft(personas.finance, project.branch, project=project, title="爱心小书包 第三季度公示"),
    )
    correction = disclosure_correct(
        actor=personas.finance,
        published=first,
        title=first.title,
        body="本季度发放书包 20 个。",
        figures={"received": 1_050_000, "paid_out": 300_000},
        correction_note="发放数量录入有误",
    )
    second = disclosure_publish(actor=personas.finance, disclosure=correction)
    return first, second


def test_the_project_page_shows_the_figures_plan_and_every_check_holding(personas: Personas) -> None:
    s = scenario(personas)
    page = html(english().get(project_url(s.project)))
    for shown in ("¥10,500.00", "¥200.00", "¥10,300.00", "¥3,000.00", "¥7,300.00", "¥1,000.00"):
        assert shown in page
    assert "思明区第一医院" in page
    assert "Charitable activity" in page
    assert s.project.filing_number in page
    assert "Consistency" in page
    assert "✓" in page
    assert "✗" not in page
    assert summary_url(s.project) in page
    # The refund shows on today's line, with the day's gifts.
    assert "− ¥200.00 refunded" in page


def test_a_failing_check_is_shown_as_failing_with_both_sides(personas: Personas) -> None:
    s = scenario(personas)
    FundraisingProject.objects.filter(pk=s.project.pk).update(raised_fen=123)
    page = html(english().get(project_url(s.project)))
    assert "✗" in page
    assert "¥1.23 ≠ ¥10,300.00" in page
    body = english().get(summary_url(s.project)).json()
    assert body["consistent"] is False
    failing = [c for c in body["checks"] if not c["holds"]]
    assert [(c["key"], c["left_fen"], c["right_fen"]) for c in failing] == [
        ("raised_counter", 123, 1_030_000)
    ]


def test_no_personal_data_of_donors_on_any_page_or_json(personas: Personas) -> None:
    s = scenario(personas)
    client = english()
    urls = [
        project_url(s.project),
        reverse("disclosure:open_project_donors", kwargs={"pk": s.project.pk}),
        reverse("disclosure:open_project_days", kwargs={"pk": s.project.pk}),
        reverse("disclosure:open_society"),
        reverse("disclosure:open_branch", kwargs={"pk": personas.tree.siming.pk}),
        summary_url(s.project),
        "/api/v1/open/summary/society",
        f"/api/v1/open/summary/branches/{personas.tree.siming.pk}",
    ]
    donor_names = set(Donation.objects.filter(project=s.project).values_list("public_name", flat=True))
    for url in urls:
        text = html(client.get(url))
        assert SECRET_NAME not in text, url
        assert SECRET_MOBILE not in text, url
        assert "张三明" not in text, url
    donors = html(client.get(reverse("disclosure:open_project_donors", kwargs={"pk": s.project.pk})))
    assert all(name in donors for name in donor_names)
    assert SECRET_NAME[0] in donors  # the masked name keeps the family name only


def test_published_disclosures_show_the_current_version_and_the_history_all_versions(
    personas: Personas,
) -> None:
    s = scenario(personas)
    first, _second = published_and_corrected(personas, s.project)
    client = english()
    page = html(client.get(project_url(s.project)))
    history_url = reverse("disclosure:open_disclosure_history", kwargs={"series": first.series})
    assert page.count(history_url) == 1
    assert "Corrected on" in page
    assert "发放数量录入有误" in page
    history = html(client.get(history_url))
    assert "Version 1" in history
    assert "Version 2" in history
    assert "发放数量录入有误" in history
    assert "本季度发放书包 120 个。" in history
    assert "本季度发放书包 20 个。" in history
    assert history.index("Version 2") < history.index("Version 1")
    society = html(client.get(reverse("disclosure:open_society")))
    assert society.count(history_url) == 1


def test_an_unpublished_or_unknown_disclosure_series_is_404(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    client = english()
    assert (
        client.get(reverse("disclosure:open_disclosure_history", kwargs={"series": d.series})).status_code
        == 404
    )
    assert client.get("/open/d/not-a-uuid/").status_code == 404


def test_json_totals_equal_the_sums_of_their_lines(personas: Personas) -> None:
    s = scenario(personas)
    client = english()
    for url in (summary_url(s.project), "/api/v1/open/summary/society"):
        response = client.get(url)
        assert response.status_code == 200
        assert "public" in response["Cache-Control"]
        assert "max-age=60" in response["Cache-Control"]
        body = response.json()
        income, spending, goods = body["income"], body["spending"], body["goods"]
        assert income["received_fen"] == sum(d["received_fen"] for d in income["by_day"]) == 1_050_000
        assert income["refunded_fen"] == sum(d["refunded_fen"] for d in income["by_day"]) == 20_000
        net = income["received_fen"] - income["refunded_fen"]
        assert net == income["net_income_fen"]
        assert net == sum(line["amount_fen"] for line in income["by_channel"])
        assert net == sum(line["amount_fen"] for line in income["by_partner"])
        assert (
            spending["paid_out_fen"] == sum(line["amount_fen"] for line in spending["by_category"]) == 300_000
        )
        assert spending["paid_out_fen"] == sum(line["amount_fen"] for line in spending["by_payee"])
        assert net == spending["paid_out_fen"] + body["balance_fen"]
        assert goods["received_value_fen"] == sum(line["amount_fen"] for line in goods["received"])
        assert goods["issued_value_fen"] == sum(line["amount_fen"] for line in goods["issued"])
        assert all(c["holds"] and c["left_fen"] == c["right_fen"] for c in body["checks"])
        assert body["consistent"] is True
    assert client.get(summary_url(s.project)).json()["scope"]["filing_number"] == s.project.filing_number


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/open/summary/projects/999999",
        "/api/v1/open/summary/branches/999999",
        "/api/v1/open/summary/projects/99999999999999999999999",
    ],
)
def test_unknown_ids_in_the_json_are_404_in_the_error_shape(personas: Personas, url: str) -> None:
    response = english().get(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_project_not_yet_open_is_not_public_anywhere(personas: Personas) -> None:
    hidden = open_project(
        personas.tree.siming, personas.finance, status=ProjectStatus.FILED, title="筹备中的项目"
    )
    client = english()
    assert client.get(project_url(hidden)).status_code == 404
    assert client.get(summary_url(hidden)).json()["error"]["code"] == "not_found"
    assert client.get(reverse("disclosure:open_project_donors", kwargs={"pk": hidden.pk})).status_code == 404
    assert "筹备中的项目" not in html(client.get(reverse("disclosure:open_society")))


def test_unknown_branch_and_project_pages_are_404(personas: Personas) -> None:
    client = english()
    assert client.get(reverse("disclosure:open_branch", kwargs={"pk": 999999})).status_code == 404
    assert client.get(reverse("disclosure:open_project", kwargs={"pk": 999999})).status_code == 404


def test_the_donor_list_pages_by_cursor_without_gaps_or_repeats(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.finance)
    gifts = [donate(project, amount_fen=100 + i) for i in range(DONORS_PER_PAGE + 3)]
    for gift in gifts:
        pay(gift)
    # Partly refunded gifts are listed too, merged in order with the others.
    for gift in (gifts[0], gifts[25], gifts[-1]):
        refund(gift, 1)
    client = english()
    url = reverse("disclosure:open_project_donors", kwargs={"pk": project.pk})
    first = html(client.get(url))
    cursors = re.findall(r"\?before=([0-9.]+)", first)
    assert len(cursors) == 1
    second = html(client.get(f"{url}?before={cursors[0]}"))
    amounts = re.findall(r"¥(\d+\.\d\d)", first) + re.findall(r"¥(\d+\.\d\d)", second)
    expected = {f"{(100 + i) // 100}.{(100 + i) % 100:02d}" for i in range(DONORS_PER_PAGE + 3)}
    assert sorted(amounts) == sorted(expected)
    # Newest first: the last three gifts paid are on the first page, the first three on the second.
    assert re.findall(r"¥(\d+\.\d\d)", first)[:3] == ["1.52", "1.51", "1.50"]
    assert re.findall(r"¥(\d+\.\d\d)", second) == ["1.02", "1.01", "1.00"]
    assert "?before=" not in second


@pytest.mark.parametrize(
    "cursor", ["abc", "1.2.3", "-5.1", "1", "99999999999999999999999.1", "1." + "9" * 30, "１２.３"]
)
def test_a_bad_donor_cursor_is_a_clear_400_revealing_nothing(personas: Personas, cursor: str) -> None:
    s = scenario(personas)
    url = reverse("disclosure:open_project_donors", kwargs={"pk": s.project.pk})
    response = english().get(url, {"before": cursor})
    assert response.status_code == 400
    text = response.content.decode()
    assert "This page link is not valid" in text
    assert "¥" not in text
    assert s.second.public_name not in text


def test_a_cursor_round_trips() -> None:
    at = timezone.now().replace(microsecond=123456)
    assert Cursor.decode(Cursor(paid_at=at, pk=42).encode()) == Cursor(paid_at=at, pk=42)


def test_the_project_page_links_to_the_giving_page_and_back(personas: Personas) -> None:
    s = scenario(personas)
    client = english()
    page = html(client.get(project_url(s.project)))
    assert reverse("funds:give_project", kwargs={"pk": s.project.pk}) in page
    give = html(client.get(reverse("funds:give_project", kwargs={"pk": s.project.pk})))
    assert project_url(s.project) in give


def _queries(client: Client, url: str) -> int:
    """Statements of an uncached render (anonymous visitors are served a cached copy)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_pages_and_json_take_the_same_queries_at_any_number_of_donations(personas: Personas) -> None:
    w = money.world(personas, amount_fen=10_000)
    money.paid(w, amount_fen=5_000)
    client = english()
    urls = [project_url(w.project), "/api/v1/open/summary/society", summary_url(w.project)]
    before = [_queries(client, url) for url in urls]
    for i in range(12):
        pay(donate(w.project, amount_fen=1_000 + i))
    after = [_queries(client, url) for url in urls]
    assert before == after


def test_a_refund_after_disclosure_lowers_the_cumulative_with_its_dated_line(personas: Personas) -> None:
    s = scenario(personas)
    client = english()
    before = client.get(summary_url(s.project)).json()["income"]
    donation = Donation.objects.filter(project=s.project, refunded_fen=0).get()
    refund(donation, 50_000)
    after = client.get(summary_url(s.project)).json()["income"]
    assert after["net_income_fen"] == before["net_income_fen"] - 50_000
    today = str(timezone.localdate())
    day = next(d for d in after["by_day"] if d["day"] == today)
    assert day["refunded_fen"] == 20_000 + 50_000
    assert [d for d in after["by_day"] if d["day"] != today] == [
        d for d in before["by_day"] if d["day"] != today
    ]


def test_an_empty_society_page_renders_in_the_default_language_with_every_check_holding(tree: object) -> None:
    response = Client().get(reverse("disclosure:open_society"))
    assert response.status_code == 200
    assert "✗" not in response.content.decode()
    body = Client().get("/api/v1/open/summary/society").json()
    assert body["income"]["by_day"] == []
    assert body["consistent"] is True
