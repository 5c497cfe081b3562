"""The Django admin: system configuration only, system administrators only,
second factor required, every change audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import AuditEvent, Branch, Membership, Role, User

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


def admin_client(personas: Personas) -> Client:
    client = signed_in_client(personas.sysadmin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_an_anonymous_visitor_is_sent_to_the_staff_sign_in() -> None:
    response = Client().get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("core:staff_signin"))


def test_a_system_administrator_without_the_second_factor_is_refused(personas: Personas) -> None:
    client = signed_in_client(personas.sysadmin, verified=False)
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    response = client.get(reverse("admin:core_role_changelist"))
    assert response.status_code == 302
    # The admin's own password form is never offered: the staff sign-in is.
    login = client.get(response["Location"])
    assert login.status_code == 302
    assert login["Location"].startswith(reverse("core:staff_signin"))


@pytest.mark.parametrize("who", ["city_staff", "siming_staff", "finance", "auditor", "public"])
def test_business_users_get_no_admin_access(personas: Personas, who: str) -> None:
    client = signed_in_client(getattr(personas, who))
    assert client.get(ADMIN).status_code == 302
    assert client.get(reverse("admin:core_role_changelist")).status_code == 302
    assert client.get(reverse("admin:login")).status_code == 403


def test_a_business_user_wrongly_flagged_is_staff_sees_no_models(personas: Personas) -> None:
    user = personas.city_staff
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = signed_in_client(User.objects.get(pk=user.pk))
    response = client.get(ADMIN)
    assert response.status_code == 200
    assert reverse("admin:core_role_changelist") not in response.content.decode()
    assert client.get(reverse("admin:core_role_changelist")).status_code == 403


def test_the_system_administrator_gets_the_configuration_models(personas: Personas) -> None:
    html = admin_client(personas).get(ADMIN).content.decode()
    for name in ("role", "branch", "user", "membership"):
        assert reverse(f"admin:core_{name}_changelist") in html
    assert "auditevent" not in html


def test_the_audit_log_is_not_in_the_admin(personas: Personas) -> None:
    assert admin_client(personas).get(f"{ADMIN}core/auditevent/").status_code == 404


def test_a_role_mixing_system_and_business_permissions_is_refused(personas: Personas) -> None:
    role = Role.objects.get(code=Role.REVIEWER)
    before = list(role.permissions)
    response = admin_client(personas).post(
        reverse("admin:core_role_change", args=[role.pk]),
        {
            "name": role.name,
            "description": "",
            "permissions": ["review.decide", "system.configure"],
        },
    )
    assert response.status_code == 200
    assert "cannot mix system administration with business permissions" in response.content.decode()
    role.refresh_from_db()
    assert role.permissions == before
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()


def test_a_read_only_role_cannot_be_given_a_write_permission(personas: Personas) -> None:
    role = Role.objects.get(code=Role.AUDITOR)
    response = admin_client(personas).post(
        reverse("admin:core_role_change", args=[role.pk]),
        {"name": role.name, "description": "", "read_only": "on", "permissions": ["finance.manage"]},
    )
    assert response.status_code == 200
    role.refresh_from_db()
    assert "finance.manage" not in role.permissions


def test_a_valid_role_change_is_saved_and_audited(personas: Personas) -> None:
    role = Role.objects.get(code=Role.REVIEWER)
    response = admin_client(personas).post(
        reverse("admin:core_role_change", args=[role.pk]),
        {"name": "审核员", "description": "", "permissions": ["branch.view", "review.decide"]},
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.code == Role.REVIEWER  # built-in codes cannot be renamed
    assert role.permissions == ["branch.view", "review.decide"]
    event = AuditEvent.objects.get(action="admin.role.change")
    assert event.actor == personas.sysadmin
    assert event.after is not None
    assert event.after["name"] == "审核员"


def test_the_user_pages_show_no_password_hash_and_no_full_mobile(personas: Personas) -> None:
    client = admin_client(personas)
    listing = client.get(reverse("admin:core_user_changelist")).content.decode()
    assert "+8613800138000" not in listing
    assert "138****8000" not in listing
    detail = client.get(reverse("admin:core_user_change", args=[personas.public.pk])).content.decode()
    assert "138****8000" in detail
    assert "13800138000" not in detail
    assert (
        personas.siming_staff.password
        not in client.get(reverse("admin:core_user_change", args=[personas.siming_staff.pk])).content.decode()
    )
    assert 'name="password"' not in detail
    assert 'name="is_superuser"' not in detail


def test_disabling_a_user_goes_through_the_account_service(personas: Personas) -> None:
    user = personas.volunteer
    response = admin_client(personas).post(
        reverse("admin:core_user_change", args=[user.pk]),
        {"display_name": "", "email": ""},  # is_active unticked
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    event = AuditEvent.objects.get(action="user.disabled")
    assert event.before == {"is_active": True}
    assert event.after is not None
    assert event.after["is_active"] is False
    assert "sessions_ended" in event.after


def test_users_cannot_be_added_or_deleted_here(personas: Personas) -> None:
    client = admin_client(personas)
    assert client.get(reverse("admin:core_user_add")).status_code == 403
    assert client.get(reverse("admin:core_user_delete", args=[personas.public.pk])).status_code == 403


def test_branches_are_shown_as_a_tree_but_not_edited_here(personas: Personas) -> None:
    client = admin_client(personas)
    response = client.get(reverse("admin:core_branch_changelist"))
    assert response.status_code == 200
    assert "厦门市红十字会" in response.content.decode()
    found = client.get(reverse("admin:core_branch_changelist"), {"q": "思明"})
    assert "思明区红十字会" in found.content.decode()
    assert client.get(reverse("admin:core_branch_add")).status_code == 403
    city = personas.tree.city
    assert client.post(reverse("admin:core_branch_change", args=[city.pk]), {"name": "x"}).status_code == 403
    siming = personas.tree.siming
    moved = client.post(
        f"{ADMIN}core/branch/move/", {"node": siming.pk, "target": personas.tree.huli.pk, "relation": "child"}
    )
    assert moved.status_code == 403
    city.refresh_from_db()
    siming.refresh_from_db()
    assert city.name == "厦门市红十字会"
    assert Branch.objects.get_parent(siming) == city


def test_revoking_a_membership_goes_through_the_service_and_is_audited(personas: Personas) -> None:
    membership = Membership.objects.get(user=personas.siming_staff)
    response = admin_client(personas).post(
        reverse("admin:core_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.revoke", actor=personas.sysadmin).exists()


def test_the_admin_list_pages_keep_their_query_count(
    personas: Personas, django_assert_max_num_queries: object
) -> None:
    client = admin_client(personas)
    for name in ("role", "user", "membership", "branch"):
        with django_assert_max_num_queries(16):  # type: ignore[operator]
            assert client.get(reverse(f"admin:core_{name}_changelist")).status_code == 200
