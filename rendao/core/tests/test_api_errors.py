"""Every error the API returns has one shape: {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.utils import translation
from ninja.errors import HttpError

from rendao.conftest import Personas, signed_in_client

pytestmark = pytest.mark.django_db


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert set(body["error"]) <= {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/", "/api/v1/branches/", "/api/v1/me/"])
def test_an_unknown_path_is_a_json_not_found(path: str) -> None:
    assert_error(Client().get(path), 404, "not_found")


def test_a_missing_object_is_a_json_not_found(db: None) -> None:
    assert_error(Client().get("/api/v1/branches/987654"), 404, "not_found")


def test_a_wrong_method_is_a_json_method_not_allowed(db: None) -> None:
    response = Client().delete("/api/v1/branches")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_no_credentials_is_unauthorized_with_a_bearer_challenge(db: None) -> None:
    response = Client().get("/api/v1/me")
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == 'Bearer realm="rendao"'


def test_a_role_that_does_not_reach_is_forbidden(personas: Personas) -> None:
    assert_error(signed_in_client(personas.public).get("/api/v1/staff/branches"), 403, "forbidden")


def test_an_object_out_of_scope_is_not_found_rather_than_forbidden(personas: Personas) -> None:
    client = signed_in_client(personas.huli_staff)
    response = client.get(f"/api/v1/staff/memberships?branch={personas.tree.siming.pk}")
    assert_error(response, 404, "not_found")


def test_invalid_query_input_is_a_validation_error_with_details(db: None) -> None:
    error = assert_error(Client().get("/api/v1/branches?limit=-5&offset=x"), 422, "validation_error")
    locations = sorted(tuple(d["loc"]) for d in error["details"])
    assert locations == [("query", "limit"), ("query", "offset")]
    for detail in error["details"]:
        assert set(detail) == {"loc", "message", "type"}


def test_a_path_parameter_of_the_wrong_type_is_a_validation_error(db: None) -> None:
    error = assert_error(Client().get("/api/v1/branches/abc"), 422, "validation_error")
    assert error["details"][0]["loc"] == ["path", "branch_id"]


def test_a_body_that_is_not_json_is_a_bad_request_in_our_words(rf: RequestFactory) -> None:
    # No operation takes a body yet, so ninja's parse error is fed to the handler
    # directly; operations with bodies (later issues) get the same answer.
    from rendao.api import api

    request = rf.post("/api/v1/x", data="{not json", content_type="application/json")
    with translation.override("en"):
        response = api.on_exception(request, HttpError(400, "Cannot parse request body"))
    error = assert_error(response, 400, "bad_request")
    assert error["message"] == "The request body is not valid JSON."


def test_a_service_validation_error_has_the_schema_errors_shape(rf: RequestFactory) -> None:
    from rendao.api import api

    request = rf.post("/api/v1/x")
    exc = ValidationError({"name": ["Give the token a name."]})
    error = assert_error(api.on_exception(request, exc), 422, "validation_error")
    assert error["details"] == [
        {"loc": ["body", "name"], "message": "Give the token a name.", "type": "invalid"}
    ]


def test_messages_are_in_the_callers_language(db: None) -> None:
    english = Client().get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["error"]["message"] == "Sign in or send an access token."


def test_an_unexpected_failure_is_a_json_server_error_without_internals(
    db: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("rendao.core.api._public_branches", explode)
    response = Client().get("/api/v1/branches")
    error = assert_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "details" not in error
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_the_health_check_needs_nothing(db: None) -> None:
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
