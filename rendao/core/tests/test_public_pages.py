"""The public site: home tiles, the "not yet online" notices, the "my" page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, Tree, signed_in_client
from rendao.core.masking import mask_mobile
from rendao.core.models import Branch
from rendao.core.services_catalogue import SERVICES, register_service_url, unregister_service_url

pytestmark = pytest.mark.django_db

SIX_SERVICES = [
    "first-aid-training",
    "aid-application",
    "online-giving",
    "donation-disclosure",
    "donor-registration",
    "volunteering",
]


def english() -> Client:
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def training_switched_on() -> Iterator[None]:
    # A service not built yet, switched on for the test only.
    register_service_url("first-aid-training", "core:health")
    yield
    unregister_service_url("first-aid-training")


def test_the_home_page_shows_the_six_services_of_the_seed_article() -> None:
    assert [s.key for s in SERVICES] == SIX_SERVICES
    response = english().get(reverse("core:home"))
    assert response.status_code == 200
    html = response.content.decode()
    for key in SIX_SERVICES:
        if key == "online-giving":
            # Built (issue 5): its tile links to the projects open for donations.
            assert reverse("funds:give_list") in html
        elif key == "donation-disclosure":
            # Built (issue 7): its tile links to the society's disclosure page.
            assert reverse("disclosure:open_society") in html
        else:
            assert reverse("core:service_unavailable", kwargs={"key": key}) in html
    assert "First-aid training" in html
    assert html.count("Not yet online") == 4


def test_the_home_page_costs_an_anonymous_visitor_no_query(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert english().get(reverse("core:home")).status_code == 200


def test_the_home_page_uses_only_our_own_static_files() -> None:
    html = english().get(reverse("core:home")).content.decode()
    assert "/static/vendor/weui-2.6.26/weui.min.css" in html
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
    assert "/static/rendao/rendao.js" in html
    assert "includeIndicatorStyles" in html
    # No inline script or style (the CSP forbids them) and nothing from a CDN.
    assert "<script>" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert "//cdn" not in html
    assert "https://" not in html


def test_a_service_not_yet_built_says_so_and_gives_the_society_contact(tree: Tree) -> None:
    Branch.objects.filter(pk=tree.city.pk).update(
        address="厦门市思明区湖滨北路", contact_phone="0592-0000000"
    )
    response = english().get(reverse("core:service_unavailable", kwargs={"key": "aid-application"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Apply for humanitarian aid" in html
    assert "not yet available online" in html
    assert "厦门市思明区湖滨北路" in html
    assert 'href="tel:0592-0000000"' in html


def test_a_service_notice_without_a_society_on_record_still_says_whom_to_ask() -> None:
    response = english().get(reverse("core:service_unavailable", kwargs={"key": "volunteering"}))
    assert response.status_code == 200
    assert "district or community" in response.content.decode()


def test_an_unknown_service_is_404() -> None:
    response = english().get(reverse("core:service_unavailable", kwargs={"key": "lottery"}))
    assert response.status_code == 404


def test_a_service_switched_on_links_its_tile_to_its_page(training_switched_on: None) -> None:
    html = english().get(reverse("core:home")).content.decode()
    assert reverse("core:service_unavailable", kwargs={"key": "first-aid-training"}) not in html
    assert html.count("Not yet online") == 3
    notice = english().get(reverse("core:service_unavailable", kwargs={"key": "first-aid-training"}))
    assert notice.status_code == 302
    assert notice["Location"] == reverse("core:health")


def test_switching_on_an_unknown_service_is_refused() -> None:
    with pytest.raises(KeyError):
        register_service_url("lottery", "core:health")


def test_the_home_page_refuses_a_post() -> None:
    assert english().post(reverse("core:home")).status_code == 405


def test_the_my_page_sends_an_anonymous_visitor_to_sign_in() -> None:
    response = english().get(reverse("core:my"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:signin"))


def test_the_my_page_shows_the_name_and_only_a_masked_mobile_number(personas: Personas) -> None:
    user = personas.public
    user.display_name = "王小红"
    user.save()
    client = signed_in_client(user, verified=False)
    response = client.get(reverse("core:my"), headers={"accept-language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "王小红" in html
    assert "138****8000" in html
    assert "13800138000" not in html
    assert reverse("core:signout") in html
    assert reverse("core:workbench") not in html


def test_the_my_page_offers_the_workbench_to_staff(personas: Personas) -> None:
    html = signed_in_client(personas.siming_staff).get(reverse("core:my")).content.decode()
    assert reverse("core:workbench") in html


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0592123", "*****23"),
        ("12", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_mobile_never_returns_a_number_whole(raw: str | None, masked: str) -> None:
    assert mask_mobile(raw) == masked
