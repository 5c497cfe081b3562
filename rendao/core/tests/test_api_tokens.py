"""Personal access tokens: created once on the staff page, hashed, revocable,
refused when dead, acting as their user narrowed to their branch."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import ApiToken, AuditEvent, Branch, Membership, Role, User
from rendao.core.services.tokens import (
    MAX_ACTIVE_TOKENS_PER_USER,
    token_create,
    token_digest,
    token_revoke,
)

pytestmark = pytest.mark.django_db

TOKEN_PATTERN = re.compile(r"rdo_[0-9a-f]{12}_[0-9a-f]{64}")


def bearer(user: User, branch: Branch | None = None) -> tuple[ApiToken, dict[str, str]]:
    token, plaintext = token_create(actor=user, name="integration", branch=branch, meta=RequestMeta())
    return token, {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def me(headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    response = Client().get("/api/v1/me", **headers)  # type: ignore[arg-type]
    return response.status_code, response.json()


# --- creating on the staff page ----------------------------------------------------


def test_the_page_shows_a_new_token_once_and_stores_only_its_digest(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    response = client.post("/staff/tokens/", {"name": "Volunteer system", "lifetime": "90"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = TOKEN_PATTERN.findall(response.content.decode())
    assert len(found) == 1
    plaintext = found[0]
    token = ApiToken.objects.get(user=personas.siming_staff)
    assert token.name == "Volunteer system"
    assert token.digest == token_digest(plaintext)
    assert plaintext not in (token.digest, token.prefix)
    assert token.expires_at is not None
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)

    again = client.get("/staff/tokens/")
    assert plaintext not in again.content.decode()
    assert f"rdo_{token.prefix}_" in again.content.decode()


def test_creating_a_token_writes_an_audit_row_without_the_secret(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    response = client.post("/staff/tokens/", {"name": "ETL", "branch": personas.tree.street.pk})
    plaintext = TOKEN_PATTERN.findall(response.content.decode())[0]
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == personas.siming_staff
    assert event.branch == personas.tree.street
    assert plaintext not in str(event.after)
    assert plaintext.split("_")[2] not in str(event.after)


def test_the_page_refuses_a_branch_outside_the_users_scope(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    response = client.post("/staff/tokens/", {"name": "x", "branch": personas.tree.huli.pk})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    assert not TOKEN_PATTERN.search(response.content.decode())


def test_the_page_refuses_an_empty_name(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    response = client.post("/staff/tokens/", {"name": "   "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_staff_without_token_permission_get_no_form_and_cannot_post(personas: Personas) -> None:
    # A reviewer's role holds no token.use.
    client = signed_in_client(personas.reviewer)
    page = client.get("/staff/tokens/")
    assert page.status_code == 200
    assert b'name="name"' not in page.content
    response = client.post("/staff/tokens/", {"name": "sneaky"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_the_page_is_for_staff_only(personas: Personas) -> None:
    assert signed_in_client(personas.public).get("/staff/tokens/").status_code == 403
    anonymous = Client().get("/staff/tokens/")
    assert anonymous.status_code == 302
    half_signed_in = signed_in_client(personas.siming_staff, verified=False).post(
        "/staff/tokens/", {"name": "x"}
    )
    assert half_signed_in.status_code == 302
    assert not ApiToken.objects.exists()


def test_the_service_refuses_users_without_token_permission(personas: Personas) -> None:
    for user in (personas.reviewer, personas.public, personas.sysadmin, personas.outsider):
        with pytest.raises(PermissionDenied):
            token_create(actor=user, name="x", meta=RequestMeta())
    assert not ApiToken.objects.exists()


def test_the_service_refuses_an_expiry_in_the_past(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        token_create(
            actor=personas.city_staff,
            name="x",
            expires_at=timezone.now() - timedelta(seconds=1),
            meta=RequestMeta(),
        )
    assert not ApiToken.objects.exists()


def test_a_user_can_hold_only_so_many_active_tokens(personas: Personas) -> None:
    for i in range(MAX_ACTIVE_TOKENS_PER_USER):
        token_create(actor=personas.city_staff, name=f"t{i}", meta=RequestMeta())
    with pytest.raises(ValidationError):
        token_create(actor=personas.city_staff, name="one too many", meta=RequestMeta())
    token_revoke(actor=personas.city_staff, token=ApiToken.objects.first(), meta=RequestMeta())  # type: ignore[arg-type]
    token_create(actor=personas.city_staff, name="after a revoke", meta=RequestMeta())


# --- using a token -------------------------------------------------------------------


def test_a_token_acts_as_its_user(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    status, body = me(headers)
    assert status == 200
    assert body["username"] == "siming"
    assert body["authenticated_by"] == "token"
    assert body["token"] == {
        "name": "integration",
        "prefix": token.prefix,
        "branch_id": None,
        "expires_at": None,
    }


@pytest.mark.parametrize(
    "header",
    [
        "Bearer rdo_000000000000_" + "0" * 64,
        "Bearer not-a-token",
        "Bearer ",
        "Bearer rdo_abc",
    ],
)
def test_an_unknown_or_malformed_token_is_refused(personas: Personas, header: str) -> None:
    status, body = me({"HTTP_AUTHORIZATION": header})
    assert status == 401
    assert body["error"]["code"] == "unauthorized"  # type: ignore[index]


def test_a_token_with_a_wrong_secret_is_refused(personas: Personas) -> None:
    token, _ = bearer(personas.siming_staff)
    forged = f"Bearer rdo_{token.prefix}_{'f' * 64}"
    assert me({"HTTP_AUTHORIZATION": forged})[0] == 401


def test_another_scheme_is_not_a_token(personas: Personas) -> None:
    _, headers = bearer(personas.siming_staff)
    plaintext = headers["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    assert me({"HTTP_AUTHORIZATION": f"Token {plaintext}"})[0] == 401


def test_a_revoked_token_is_refused_at_once(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    assert me(headers)[0] == 200
    token_revoke(actor=personas.siming_staff, token=token, meta=RequestMeta())
    status, body = me(headers)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"  # type: ignore[index]


def test_an_expired_token_is_refused(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert me(headers)[0] == 401


def test_the_token_of_a_disabled_user_is_refused(personas: Personas) -> None:
    _, headers = bearer(personas.siming_staff)
    User.objects.filter(pk=personas.siming_staff.pk).update(is_active=False)
    assert me(headers)[0] == 401


def test_a_token_stops_working_when_its_user_loses_every_role_that_allows_tokens(
    personas: Personas,
) -> None:
    _, headers = bearer(personas.siming_staff)
    Membership.objects.filter(user=personas.siming_staff).update(role=Role.objects.get(code=Role.REVIEWER))
    assert me(headers)[0] == 401


def test_a_token_is_narrowed_to_its_branch(personas: Personas) -> None:
    # The city administrator's token limited to 思明 sees only 思明's subtree.
    tree = personas.tree
    _, headers = bearer(personas.city_staff, branch=tree.siming)
    response = Client().get("/api/v1/staff/branches", **headers)  # type: ignore[arg-type]
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["items"]}
    assert ids == {tree.siming.pk, tree.street.pk, tree.community.pk}
    huli = Client().get(f"/api/v1/staff/memberships?branch={tree.huli.pk}", **headers)  # type: ignore[arg-type]
    assert huli.status_code == 404


def test_a_token_does_not_sign_in_to_pages(personas: Personas) -> None:
    _, headers = bearer(personas.city_staff)
    response = Client().get("/staff/tokens/", **headers)  # type: ignore[arg-type]
    assert response.status_code == 302


def test_last_used_is_stamped_at_most_once_a_minute(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    assert token.last_used_at is None
    me(headers)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    me(headers)
    token.refresh_from_db()
    assert token.last_used_at == first

    a_while_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=a_while_ago)
    me(headers)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > a_while_ago


def test_a_request_with_a_fresh_stamp_writes_nothing(personas: Personas) -> None:
    _, headers = bearer(personas.siming_staff)
    me(headers)
    with CaptureQueriesContext(connection) as queries:
        assert me(headers)[0] == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert writes == []


# --- revoking --------------------------------------------------------------------------


def test_the_page_revokes_ones_own_token(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    client = signed_in_client(personas.siming_staff)
    response = client.post(f"/staff/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(token.pk)).count() == 1
    assert me(headers)[0] == 401


def test_the_page_cannot_revoke_someone_elses_token(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    response = signed_in_client(personas.huli_staff).post(f"/staff/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert me(headers)[0] == 200


def test_revoking_is_a_post(personas: Personas) -> None:
    token, _ = bearer(personas.siming_staff)
    response = signed_in_client(personas.siming_staff).get(f"/staff/tokens/{token.pk}/revoke/")
    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_twice_writes_one_audit_row(personas: Personas) -> None:
    token, _ = bearer(personas.siming_staff)
    token_revoke(actor=personas.siming_staff, token=token, meta=RequestMeta())
    token_revoke(actor=personas.siming_staff, token=token, meta=RequestMeta())
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_an_integration_can_revoke_its_own_token_through_the_api(personas: Personas) -> None:
    token, headers = bearer(personas.siming_staff)
    response = Client().post(f"/api/v1/me/tokens/{token.pk}/revoke", **headers)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert me(headers)[0] == 401


def test_the_api_cannot_revoke_someone_elses_token(personas: Personas) -> None:
    token, _ = bearer(personas.siming_staff)
    _, other = bearer(personas.huli_staff)
    response = Client().post(f"/api/v1/me/tokens/{token.pk}/revoke", **other)  # type: ignore[arg-type]
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_api_lists_only_the_callers_tokens_without_secrets(personas: Personas) -> None:
    mine, headers = bearer(personas.siming_staff)
    bearer(personas.huli_staff)
    response = Client().get("/api/v1/me/tokens", **headers)  # type: ignore[arg-type]
    assert response.status_code == 200
    body = response.json()
    assert [t["id"] for t in body["items"]] == [mine.pk]
    assert "digest" not in body["items"][0]


# --- sessions -----------------------------------------------------------------------


def test_a_session_write_without_the_csrf_token_is_refused(personas: Personas) -> None:
    token, _ = bearer(personas.siming_staff)
    client = signed_in_client(personas.siming_staff)
    client.handler.enforce_csrf_checks = True
    response = client.post(f"/api/v1/me/tokens/{token.pk}/revoke")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_session_write_with_the_csrf_token_is_accepted(personas: Personas) -> None:
    token, _ = bearer(personas.siming_staff)
    client = signed_in_client(personas.siming_staff)
    client.handler.enforce_csrf_checks = True
    client.get("/staff/tokens/")  # sets the CSRF cookie, as any page does
    csrf = client.cookies["csrftoken"].value
    response = client.post(f"/api/v1/me/tokens/{token.pk}/revoke", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_half_signed_in_staff_session_is_not_enough(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff, verified=False)
    assert client.get("/api/v1/me").status_code == 401


def test_a_public_users_session_reads_me_with_the_mobile_masked(personas: Personas) -> None:
    response = signed_in_client(personas.public, verified=False).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["authenticated_by"] == "session"
    assert body["token"] is None
    assert body["memberships"] == []
    assert body["mobile_masked"] == "138****8000"
    assert "13800138000" not in response.content.decode()


def test_a_field_error_from_the_service_is_shown_on_the_form(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rendao.core.views import tokens as token_views

    def refuse(**kwargs: object) -> None:
        raise ValidationError({"name": "A token by this name exists."})

    monkeypatch.setattr(token_views, "token_create", refuse)
    client = signed_in_client(personas.city_staff)
    response = client.post("/staff/tokens/", {"name": "dup", "lifetime": "90"})
    assert response.status_code == 400
    assert "A token by this name exists." in response.content.decode()
    assert not ApiToken.objects.filter(user=personas.city_staff).exists()
