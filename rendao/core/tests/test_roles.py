from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from rendao.core.models import Role
from rendao.core.permissions import BUSINESS_PERMS, READ_PERMS, SYSTEM_PERMS

pytestmark = pytest.mark.django_db


def test_every_built_in_role_obeys_the_role_rules() -> None:
    roles = list(Role.objects.filter(is_builtin=True))
    assert {r.code for r in roles} >= {
        Role.SYSTEM_ADMIN,
        Role.BRANCH_ADMIN,
        Role.FINANCE,
        Role.REVIEWER,
        Role.TRAINING_OFFICER,
        Role.VOLUNTEER_MANAGER,
        Role.AUDITOR,
        Role.LEADER,
    }
    for role in roles:
        role.full_clean()


def test_the_system_administrator_holds_only_system_permissions() -> None:
    perms = set(Role.objects.get(code=Role.SYSTEM_ADMIN).permissions)
    assert perms <= SYSTEM_PERMS
    assert not perms & BUSINESS_PERMS


@pytest.mark.parametrize("code", [Role.AUDITOR, Role.LEADER])
def test_read_only_roles_hold_only_reading_permissions(code: str) -> None:
    role = Role.objects.get(code=code)
    assert role.read_only
    assert set(role.permissions) <= READ_PERMS


def test_an_unknown_permission_is_refused() -> None:
    role = Role(code="odd", name="Odd", permissions=["branch.view", "rockets.launch"])
    with pytest.raises(ValidationError, match=r"rockets\.launch"):
        role.full_clean()


def test_built_in_roles_are_shown_in_the_readers_language() -> None:
    from django.utils import translation

    role = Role.objects.get(code=Role.AUDITOR)
    with translation.override("en"):
        assert role.label == "Auditor"
    custom = Role.objects.create(code="custom", name="社区联络员", permissions=["branch.view"])
    with translation.override("en"):
        assert custom.label == "社区联络员"
