from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from rendao.conftest import Personas
from rendao.core import scope
from rendao.core.models import AuditEvent, Membership, Role, User
from rendao.core.permissions import Perm
from rendao.core.services.memberships import grantable_roles, membership_grant, membership_revoke

pytestmark = pytest.mark.django_db


def role(code: str) -> Role:
    return Role.objects.get(code=code)


@pytest.fixture
def newcomer(db: None) -> User:
    return User.objects.create_user("newcomer", password="correct horse battery")


def test_a_branch_admin_grants_a_role_within_their_subtree(personas: Personas, newcomer: User) -> None:
    t = personas.tree
    m = membership_grant(
        actor=personas.siming_staff, user=newcomer, branch=t.street, role=role(Role.REVIEWER)
    )
    assert m.granted_by == personas.siming_staff
    assert scope.in_scope(newcomer, Perm.REVIEW_DECIDE, t.community)
    assert not scope.in_scope(newcomer, Perm.REVIEW_DECIDE, t.siming)
    event = AuditEvent.objects.get(action="membership.grant")
    assert event.after == {
        "user": "newcomer",
        "role": Role.REVIEWER,
        "branch_id": t.street.pk,
        "branch": t.street.name,
    }
    assert event.branch == t.street


def test_a_branch_admin_cannot_grant_outside_their_subtree(personas: Personas, newcomer: User) -> None:
    with pytest.raises(PermissionDenied):
        membership_grant(
            actor=personas.siming_staff, user=newcomer, branch=personas.tree.huli, role=role(Role.REVIEWER)
        )
    with pytest.raises(PermissionDenied):
        membership_grant(
            actor=personas.siming_staff, user=newcomer, branch=personas.tree.city, role=role(Role.REVIEWER)
        )
    assert not Membership.objects.filter(user=newcomer).exists()


def test_roles_without_membership_manage_cannot_grant(personas: Personas, newcomer: User) -> None:
    for actor in (personas.finance, personas.reviewer, personas.auditor, personas.leader, personas.outsider):
        with pytest.raises(PermissionDenied):
            membership_grant(
                actor=actor, user=newcomer, branch=personas.tree.street, role=role(Role.REVIEWER)
            )
    assert not Membership.objects.filter(user=newcomer).exists()


def test_the_system_administrator_grants_any_role_anywhere(personas: Personas, newcomer: User) -> None:
    membership_grant(
        actor=personas.sysadmin, user=newcomer, branch=personas.tree.huli, role=role(Role.FINANCE)
    )
    assert scope.in_scope(newcomer, Perm.FINANCE_MANAGE, personas.tree.school)


def test_only_the_system_administrator_grants_the_system_administrator_role(
    personas: Personas, newcomer: User
) -> None:
    with pytest.raises(PermissionDenied):
        membership_grant(
            actor=personas.city_staff, user=newcomer, branch=personas.tree.city, role=role(Role.SYSTEM_ADMIN)
        )
    membership_grant(
        actor=personas.sysadmin, user=newcomer, branch=personas.tree.city, role=role(Role.SYSTEM_ADMIN)
    )
    assert scope.in_scope(newcomer, Perm.SYSTEM_ACCOUNTS, personas.tree.city)


def test_the_system_role_is_not_offered_to_branch_admins(personas: Personas) -> None:
    codes = {r.code for r in grantable_roles(personas.city_staff, personas.tree.city)}
    assert Role.SYSTEM_ADMIN not in codes
    assert Role.FINANCE in codes
    assert Role.SYSTEM_ADMIN in {r.code for r in grantable_roles(personas.sysadmin, personas.tree.city)}
    assert grantable_roles(personas.siming_staff, personas.tree.huli) == []
    assert grantable_roles(personas.auditor, personas.tree.city) == []


def test_nobody_grants_themselves_a_role(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        membership_grant(
            actor=personas.city_staff,
            user=personas.city_staff,
            branch=personas.tree.city,
            role=role(Role.FINANCE),
        )
    with pytest.raises(PermissionDenied):
        membership_grant(
            actor=personas.sysadmin,
            user=personas.sysadmin,
            branch=personas.tree.siming,
            role=role(Role.SYSTEM_ADMIN),
        )
    assert personas.city_staff.memberships.count() == 1


def test_a_system_administrator_cannot_also_hold_a_business_role(personas: Personas) -> None:
    other_admin = User.objects.create_user("other_admin")
    membership_grant(
        actor=personas.sysadmin, user=other_admin, branch=personas.tree.city, role=role(Role.SYSTEM_ADMIN)
    )
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        membership_grant(
            actor=other_admin, user=personas.sysadmin, branch=personas.tree.city, role=role(Role.AUDITOR)
        )
    assert "system administrator" in exc.value.message_dict["role"][0]
    assert personas.sysadmin.memberships.count() == 1


def test_a_business_role_holder_cannot_become_system_administrator(personas: Personas) -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError):
        membership_grant(
            actor=personas.sysadmin,
            user=personas.finance,
            branch=personas.tree.city,
            role=role(Role.SYSTEM_ADMIN),
        )
    assert not personas.finance.memberships.filter(role__code=Role.SYSTEM_ADMIN).exists()


def test_a_duplicate_grant_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        membership_grant(
            actor=personas.city_staff,
            user=personas.siming_staff,
            branch=personas.tree.siming,
            role=role(Role.BRANCH_ADMIN),
        )
    assert personas.siming_staff.memberships.count() == 1


def test_a_disabled_account_or_inactive_branch_gets_no_role(personas: Personas, newcomer: User) -> None:
    newcomer.is_active = False
    newcomer.save()
    with pytest.raises(ValidationError):
        membership_grant(
            actor=personas.city_staff, user=newcomer, branch=personas.tree.city, role=role(Role.REVIEWER)
        )
    personas.tree.school.is_active = False
    personas.tree.school.save()
    with pytest.raises(ValidationError):
        membership_grant(
            actor=personas.city_staff,
            user=personas.public,
            branch=personas.tree.school,
            role=role(Role.REVIEWER),
        )
    assert not Membership.objects.filter(user__in=[newcomer, personas.public]).exists()


def test_a_revoke_takes_the_scope_away_at_once_and_is_audited(personas: Personas) -> None:
    m = personas.reviewer.memberships.select_related("user").get()
    personas.reviewer = m.user
    assert scope.in_scope(personas.reviewer, Perm.REVIEW_DECIDE, personas.tree.street)
    membership_revoke(actor=personas.siming_staff, membership=m)
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert not scope.in_scope(personas.reviewer, Perm.REVIEW_DECIDE, personas.tree.street)
    event = AuditEvent.objects.get(action="membership.revoke")
    assert event.object_id == str(m.pk)
    assert event.before is not None
    assert event.before["role"] == Role.REVIEWER
    assert event.after is None


def test_revoking_follows_the_same_rules_as_granting(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        membership_revoke(actor=personas.huli_staff, membership=personas.reviewer.memberships.get())
    with pytest.raises(PermissionDenied):
        membership_revoke(actor=personas.city_staff, membership=personas.sysadmin.memberships.get())
    with pytest.raises(PermissionDenied):
        membership_revoke(actor=personas.city_staff, membership=personas.city_staff.memberships.get())
    assert Membership.objects.count() == 8
