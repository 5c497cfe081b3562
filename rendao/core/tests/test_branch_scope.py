from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rendao.conftest import Personas
from rendao.core import scope
from rendao.core.models import Branch, Membership, Role
from rendao.core.permissions import Perm

pytestmark = pytest.mark.django_db


def test_a_district_role_reaches_its_whole_subtree_and_nothing_else(personas: Personas) -> None:
    t = personas.tree
    got = set(scope.branches_for(personas.siming_staff, Perm.BRANCH_MANAGE))
    assert got == {t.siming, t.street, t.community}


def test_a_city_role_reaches_every_branch(personas: Personas) -> None:
    assert scope.branches_for(personas.city_staff, Perm.BRANCH_VIEW).count() == Branch.objects.count()


def test_a_permission_the_role_lacks_reaches_nowhere(personas: Personas) -> None:
    assert not scope.branches_for(personas.reviewer, Perm.FINANCE_MANAGE).exists()
    assert not scope.branches_for(personas.outsider, Perm.BRANCH_VIEW).exists()
    assert not scope.branches_for(personas.public, Perm.BRANCH_VIEW).exists()


def test_the_system_administrator_holds_no_business_permission(personas: Personas) -> None:
    for perm in (Perm.BRANCH_VIEW, Perm.FINANCE_VIEW, Perm.AUDIT_VIEW, Perm.REVIEW_DECIDE):
        assert not scope.has_perm_anywhere(personas.sysadmin, perm)


def test_a_scope_filter_is_one_query_whatever_the_number_of_memberships(
    personas: Personas, django_assert_num_queries: object
) -> None:
    t = personas.tree
    role = Role.objects.get(code=Role.REVIEWER)
    for b in (t.huli, t.school, t.street):
        Membership.objects.create(user=personas.reviewer, branch=b, role=role)
    with django_assert_num_queries(2):  # type: ignore[operator]
        list(scope.branches_for(personas.reviewer, Perm.REVIEW_DECIDE))


def test_out_of_scope_objects_look_absent(personas: Personas) -> None:
    t = personas.tree
    with pytest.raises(Http404):
        scope.get_in_scope(
            Branch.objects.all(), user=personas.siming_staff, perm=Perm.BRANCH_VIEW, field="", pk=t.huli.pk
        )
    assert (
        scope.get_in_scope(
            Branch.objects.all(), user=personas.siming_staff, perm=Perm.BRANCH_VIEW, field="", pk=t.street.pk
        )
        == t.street
    )


def test_require_perm_refuses_another_branch(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        scope.require_perm(personas.huli_staff, Perm.BRANCH_MANAGE, personas.tree.siming)
    scope.require_perm(personas.huli_staff, Perm.BRANCH_MANAGE, personas.tree.school)


def test_a_disabled_user_has_no_scope(personas: Personas) -> None:
    personas.city_staff.is_active = False
    assert scope.scope_paths(personas.city_staff, Perm.BRANCH_VIEW) == []
