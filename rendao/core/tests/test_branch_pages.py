from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import Branch, Membership, Role, User
from rendao.core.services.branches import branch_create

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def staff(user: User) -> Client:
    return signed_in_client(user)


def assert_csp_clean(html: str) -> None:
    # The CSP allows no inline script or style.
    assert "<script>" not in html
    assert "style=" not in html
    assert "<style" not in html


def test_the_tree_lists_exactly_the_branches_in_scope(personas: Personas) -> None:
    t = personas.tree
    response = staff(personas.siming_staff).get(reverse("core:branches"))
    assert response.status_code == 200
    html = response.content.decode()
    for inside in (t.siming, t.street, t.community):
        assert inside.name in html
    for outside in (t.city, t.huli, t.school):
        assert outside.name not in html
    assert_csp_clean(html)


def test_the_tree_takes_the_same_number_of_queries_however_big_it_is(
    personas: Personas, django_assert_num_queries: Any
) -> None:
    client = staff(personas.city_staff)
    client.get(reverse("core:branches"))  # warm up the session and OTP device lookups
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("core:branches"))
    for i in range(30):
        branch_create(
            actor=personas.city_staff,
            parent=personas.tree.huli,
            kind=Branch.Kind.INSTITUTION,
            institution_type=Branch.InstitutionType.SCHOOL,
            name=f"学校{i}红十字会",
        )
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("core:branches"))
    assert "学校29红十字会" in response.content.decode()


def test_the_system_administrator_sees_the_tree_to_manage_accounts(personas: Personas) -> None:
    response = staff(personas.sysadmin).get(reverse("core:branch_detail", args=[personas.tree.huli.pk]))
    assert response.status_code == 200
    assert "huli" in response.content.decode()  # the membership list


def test_a_branch_of_another_district_is_not_found(personas: Personas) -> None:
    client = staff(personas.siming_staff)
    huli = personas.tree.huli
    for name in ("branch_detail", "branch_edit", "branch_create", "membership_grant"):
        assert client.get(reverse(f"core:{name}", args=[huli.pk])).status_code == 404
    for name in ("branch_deactivate", "branch_reactivate"):
        assert client.post(reverse(f"core:{name}", args=[huli.pk])).status_code == 404
    assert client.get(reverse("core:branch_detail", args=[999999])).status_code == 404
    huli.refresh_from_db()
    assert huli.is_active


def test_public_users_and_staff_without_roles_are_refused(personas: Personas) -> None:
    url = reverse("core:branches")
    assert staff(personas.outsider).get(url).status_code == 403
    public = signed_in_client(personas.public)
    assert public.get(url).status_code == 403


def test_the_detail_page_shows_children_and_memberships(personas: Personas) -> None:
    t = personas.tree
    response = staff(personas.city_staff).get(reverse("core:branch_detail", args=[t.siming.pk]), headers=EN)
    html = response.content.decode()
    assert t.street.name in html
    assert "reviewer" in html
    assert "siming" in html
    assert reverse("core:membership_grant", args=[t.siming.pk]) in html
    assert_csp_clean(html)


def test_the_detail_page_hides_memberships_from_roles_that_may_not_see_them(personas: Personas) -> None:
    t = personas.tree
    response = staff(personas.reviewer).get(reverse("core:branch_detail", args=[t.siming.pk]), headers=EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Staff roles at this branch" not in html
    assert reverse("core:branch_edit", args=[t.siming.pk]) not in html


def test_a_street_is_created_through_the_form(personas: Personas) -> None:
    t = personas.tree
    response = staff(personas.siming_staff).post(
        reverse("core:branch_create", args=[t.siming.pk]),
        {
            "kind": "street",
            "name": "厦港街道红十字会",
            "division_code": "350203001000",
            "population": "72000",
        },
    )
    child = Branch.objects.get(name="厦港街道红十字会")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:branch_detail", args=[child.pk])
    assert Branch.objects.get_parent(child) == t.siming


def test_a_bad_division_code_is_a_translated_error_and_creates_nothing(personas: Personas) -> None:
    t = personas.tree
    before = Branch.objects.count()
    response = staff(personas.siming_staff).post(
        reverse("core:branch_create", args=[t.siming.pk]),
        {"kind": "street", "name": "错码街道", "division_code": "350206001000"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "The division code must start with 350203" in response.content.decode()
    assert Branch.objects.count() == before


def test_a_kind_not_allowed_under_the_parent_is_not_even_offered(personas: Personas) -> None:
    t = personas.tree
    client = staff(personas.siming_staff)
    form_html = client.get(reverse("core:branch_create", args=[t.siming.pk])).content.decode()
    assert 'value="street"' in form_html
    assert 'value="district"' not in form_html
    response = client.post(
        reverse("core:branch_create", args=[t.siming.pk]), {"kind": "district", "name": "x"}
    )
    assert response.status_code == 400
    assert not Branch.objects.filter(name="x").exists()


def test_missing_fields_get_django_translated_errors(personas: Personas) -> None:
    response = staff(personas.siming_staff).post(
        reverse("core:branch_create", args=[personas.tree.siming.pk]),
        {"kind": "street", "population": "-5"},
        headers={"Accept-Language": "zh-hans"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "这个字段是必填项。" in html
    assert "确保该值大于或等于0。" in html
    assert not Branch.objects.filter(population=-5).exists()


def test_a_role_that_may_only_view_gets_403_on_the_forms(personas: Personas) -> None:
    t = personas.tree
    client = staff(personas.reviewer)
    assert client.get(reverse("core:branch_create", args=[t.siming.pk])).status_code == 403
    assert client.get(reverse("core:branch_edit", args=[t.siming.pk])).status_code == 403
    assert client.post(reverse("core:branch_deactivate", args=[t.community.pk])).status_code == 403
    t.community.refresh_from_db()
    assert t.community.is_active


def test_a_branch_is_edited_through_the_form(personas: Personas) -> None:
    t = personas.tree
    url = reverse("core:branch_edit", args=[t.street.pk])
    client = staff(personas.siming_staff)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "嘉莲街道红十字会",
            "division_code": "350203009000",
            "latitude": "24.485",
            "longitude": "118.132",
            "population": "120000",
        },
    )
    assert response.status_code == 302
    t.street.refresh_from_db()
    assert t.street.population == 120000
    assert str(t.street.latitude) == "24.485000"


def test_deactivation_is_a_post_and_refused_while_children_are_active(personas: Personas) -> None:
    t = personas.tree
    client = staff(personas.siming_staff)
    url = reverse("core:branch_deactivate", args=[t.street.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, headers=EN)
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == [f"Deactivate the branches under {t.street.name} first."]
    t.street.refresh_from_db()
    assert t.street.is_active
    client.post(reverse("core:branch_deactivate", args=[t.community.pk]))
    t.community.refresh_from_db()
    assert not t.community.is_active


def test_a_role_is_granted_through_the_form(personas: Personas) -> None:
    t = personas.tree
    newcomer = User.objects.create_user("newcomer")
    response = staff(personas.siming_staff).post(
        reverse("core:membership_grant", args=[t.street.pk]),
        {"username": "newcomer", "role": Role.objects.get(code=Role.TRAINING_OFFICER).pk},
    )
    assert response.status_code == 302
    granted = Membership.objects.filter(user=newcomer, branch=t.street)
    assert granted.filter(role__code=Role.TRAINING_OFFICER).exists()


def test_the_system_role_cannot_be_posted_by_a_branch_admin(personas: Personas) -> None:
    newcomer = User.objects.create_user("newcomer")
    response = staff(personas.city_staff).post(
        reverse("core:membership_grant", args=[personas.tree.city.pk]),
        {"username": "newcomer", "role": Role.objects.get(code=Role.SYSTEM_ADMIN).pk},
        headers=EN,
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not newcomer.memberships.exists()


def test_grant_errors_are_shown_and_change_nothing(personas: Personas) -> None:
    t = personas.tree
    client = staff(personas.sysadmin)
    url = reverse("core:membership_grant", args=[t.city.pk])
    auditor_role = Role.objects.get(code=Role.AUDITOR).pk
    response = client.post(url, {"username": "nobody", "role": auditor_role}, headers=EN)
    assert response.status_code == 400
    assert "no active account" in response.content.decode()
    other_admin = User.objects.create_user("other_admin")
    Membership.objects.create(user=other_admin, branch=t.city, role=Role.objects.get(code=Role.SYSTEM_ADMIN))
    response = client.post(url, {"username": "other_admin", "role": auditor_role}, headers=EN)
    assert response.status_code == 400
    assert "cannot also hold a business role" in response.content.decode()
    assert other_admin.memberships.count() == 1


def test_granting_oneself_a_role_is_forbidden(personas: Personas) -> None:
    response = staff(personas.city_staff).post(
        reverse("core:membership_grant", args=[personas.tree.city.pk]),
        {"username": "city", "role": Role.objects.get(code=Role.FINANCE).pk},
    )
    assert response.status_code == 403
    assert personas.city_staff.memberships.count() == 1


def test_a_role_is_revoked_by_post_and_out_of_scope_memberships_are_not_found(personas: Personas) -> None:
    reviewer_m = personas.reviewer.memberships.get()
    huli_m = personas.huli_staff.memberships.get()
    client = staff(personas.siming_staff)
    assert client.get(reverse("core:membership_revoke", args=[reviewer_m.pk])).status_code == 405
    assert client.post(reverse("core:membership_revoke", args=[huli_m.pk])).status_code == 404
    response = client.post(reverse("core:membership_revoke", args=[reviewer_m.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=reviewer_m.pk).exists()
    assert Membership.objects.filter(pk=huli_m.pk).exists()


def test_an_auditor_sees_memberships_but_cannot_revoke(personas: Personas) -> None:
    m = personas.reviewer.memberships.get()
    response = staff(personas.auditor).post(reverse("core:membership_revoke", args=[m.pk]))
    assert response.status_code == 403
    assert Membership.objects.filter(pk=m.pk).exists()


def test_revoke_buttons_appear_only_where_a_revoke_would_be_allowed(personas: Personas) -> None:
    t = personas.tree
    html = staff(personas.city_staff).get(reverse("core:branch_detail", args=[t.city.pk])).content.decode()
    for revocable in (personas.finance, personas.auditor):
        m = revocable.memberships.get()
        assert reverse("core:membership_revoke", args=[m.pk]) in html
    for kept in (personas.sysadmin, personas.city_staff):  # a system role; one's own role
        m = kept.memberships.get()
        assert reverse("core:membership_revoke", args=[m.pk]) not in html


def test_the_detail_page_takes_the_same_number_of_queries_however_many_roles_are_held(
    personas: Personas, django_assert_num_queries: Any
) -> None:
    t = personas.tree
    client = staff(personas.city_staff)
    url = reverse("core:branch_detail", args=[t.street.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    role = Role.objects.get(code=Role.REVIEWER)
    for i in range(10):
        Membership.objects.create(user=User.objects.create_user(f"r{i}"), branch=t.street, role=role)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "r9" in response.content.decode()
