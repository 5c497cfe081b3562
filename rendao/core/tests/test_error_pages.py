"""Error pages speak to people: translated, with a way home, nothing internal."""

from __future__ import annotations

import pytest
from django.test import Client

from rendao.conftest import Personas, signed_in_client

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_a_translated_404_page_with_a_way_home() -> None:
    english = Client(headers={"accept-language": "en"}).get("/open/p/999999/")
    assert english.status_code == 404
    html = english.content.decode()
    assert "Page not found" in html
    assert 'href="/"' in html
    assert "<script>" not in html
    chinese = Client(headers={"accept-language": "zh-hans"}).get("/no/such/page/")
    assert chinese.status_code == 404
    assert "页面不存在" in chinese.content.decode()


def test_a_refusal_says_why_in_the_users_language(personas: Personas) -> None:
    client = signed_in_client(personas.auditor)  # may read disclosures, not draft them
    response = client.get("/staff/disclosures/new/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html
    assert "draft disclosures" in html


def test_the_server_error_page_needs_no_database_and_no_template_context() -> None:
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html
    assert "出错了" in html
