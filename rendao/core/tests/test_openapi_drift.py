"""The committed OpenAPI document is the API's, and its docs page runs under our CSP."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from rendao.core.management.commands.export_openapi import DEFAULT_PATH, render_schema


def test_the_committed_document_matches_the_api() -> None:
    # If this fails: `rendao manage export_openapi`, review the diff, commit it.
    assert DEFAULT_PATH.read_text() == render_schema()


def test_the_served_document_has_the_same_operations(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    committed = json.loads(DEFAULT_PATH.read_text())
    assert served["paths"] == committed["paths"]
    assert served["components"] == committed["components"]


def test_every_error_shape_is_described_in_the_document() -> None:
    schema = json.loads(render_schema())
    assert "Bearer" in schema["info"]["description"]
    assert "validation_error" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


@pytest.mark.django_db
def test_the_docs_page_loads_only_our_own_scripts() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, body in scripts:
        assert body.strip() == "", "no inline script"
        src = re.search(r'src="([^"]+)"', attributes)
        assert src is not None
        assert src.group(1).startswith("/static/")
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert finders.find(url.removeprefix("/static/")), url
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    assert "cdn" not in html.lower()


def test_the_vendored_swagger_ui_keeps_its_licence() -> None:
    for name in ("LICENSE", "NOTICE", "VENDORED.txt"):
        assert finders.find(f"vendor/swagger-ui-5.35.0/{name}")
