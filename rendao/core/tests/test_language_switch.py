"""The language switch on every page: zh-Hans by default, English on request."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client

pytestmark = pytest.mark.django_db

SETLANG = "/i18n/setlang/"


def test_the_set_language_url_keeps_djangos_path() -> None:
    assert reverse("core:set_language") == SETLANG


def test_pages_are_in_simplified_chinese_by_default() -> None:
    html = Client().get(reverse("core:home")).content.decode()
    assert '<html lang="zh-hans">' in html


def test_every_public_page_offers_every_language(personas: Personas) -> None:
    pages = [
        Client().get(reverse("core:home")),
        Client().get(reverse("core:service_unavailable", kwargs={"key": "volunteering"})),
        signed_in_client(personas.public, verified=False).get(reverse("core:my")),
    ]
    for response in pages:
        html = response.content.decode()
        assert f'action="{SETLANG}"' in html
        for code, _name in settings.LANGUAGES:
            assert f'<option value="{code}"' in html


def test_the_workbench_offers_the_language_switch(personas: Personas) -> None:
    html = signed_in_client(personas.siming_staff).get(reverse("core:workbench")).content.decode()
    assert f'action="{SETLANG}"' in html


def test_switching_to_english_sets_the_cookie_and_goes_back() -> None:
    client = Client()
    response = client.post(SETLANG, {"language": "en", "next": reverse("core:my")})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:my")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(reverse("core:home")).content.decode()
    assert '<html lang="en">' in html
    assert '<option value="en" lang="en" selected>' in html


def test_switching_back_to_chinese_works() -> None:
    client = Client()
    client.post(SETLANG, {"language": "en"})
    client.post(SETLANG, {"language": "zh-hans"})
    assert '<html lang="zh-hans">' in client.get(reverse("core:home")).content.decode()


@pytest.mark.parametrize("code", ["xx", "", "zh-hans'><script>", "en" * 100])
def test_an_unknown_language_code_changes_nothing(code: str) -> None:
    client = Client()
    client.post(SETLANG, {"language": "en"})
    response = client.post(SETLANG, {"language": code})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en">' in client.get(reverse("core:home")).content.decode()


def test_a_language_django_knows_but_we_do_not_offer_is_never_served() -> None:
    # Django's set_language stores any code it has a catalogue for (it ships
    # French); the locale middleware then ignores a code outside LANGUAGES.
    client = Client()
    client.post(SETLANG, {"language": "fr"})
    html = client.get(reverse("core:home"), headers={"accept-language": "fr"}).content.decode()
    assert '<html lang="zh-hans">' in html


def test_the_switch_never_redirects_off_site() -> None:
    response = Client().post(SETLANG, {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_the_switch_works_without_a_csrf_token_so_public_pages_stay_cacheable() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(SETLANG, {"language": "en"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_the_switch_refuses_get() -> None:
    client = Client()
    assert client.get(SETLANG, {"language": "en"}).status_code == 405
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_an_unknown_language_never_redirects_off_site_either() -> None:
    response = Client().post(SETLANG, {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_anonymous_home_page_carries_no_csrf_token_or_cookie() -> None:
    response = Client().get(reverse("core:home"))
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert "csrf-token" not in response.content.decode()
    assert settings.CSRF_COOKIE_NAME not in response.cookies
