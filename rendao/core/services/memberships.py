"""Granting and revoking staff roles (memberships).

Who may grant what, one rule per line in `_authorize`:
- a person with MEMBERSHIP_MANAGE over the branch (their subtree), or the
  system administrator (SYSTEM_ACCOUNTS), may grant and revoke there;
- only SYSTEM_ACCOUNTS holders may grant or revoke a system role;
- nobody changes their own roles;
- a system role and a business role never sit on the same person
  (separation of duties, MLPS 等保 level 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rendao.core import scope
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import Branch, Membership, Role, User
from rendao.core.permissions import BUSINESS_PERMS, SYSTEM_PERMS, Perm

if TYPE_CHECKING:
    from collections.abc import Iterable


def role_is_system(role: Role) -> bool:
    """True for a role that holds any system permission (system administrator)."""
    return bool(set(role.permissions or []) & SYSTEM_PERMS)


def _role_is_business(role: Role) -> bool:
    return bool(set(role.permissions or []) & BUSINESS_PERMS)


def may_manage_memberships(actor: User | None, branch: Branch) -> bool:
    """Whether `actor` may grant or revoke (non-system) roles at `branch`."""
    if actor is None:
        return True
    return scope.in_scope(actor, Perm.MEMBERSHIP_MANAGE, branch) or scope.in_scope(
        actor, Perm.SYSTEM_ACCOUNTS, branch
    )


def grantable_roles(actor: User | None, branch: Branch) -> list[Role]:
    """The roles `actor` may grant at `branch` (empty if none)."""
    if not may_manage_memberships(actor, branch):
        return []
    system_ok = actor is None or scope.in_scope(actor, Perm.SYSTEM_ACCOUNTS, branch)
    return [r for r in Role.objects.order_by("id") if system_ok or not role_is_system(r)]


def may_revoke(actor: User | None, membership: Membership) -> bool:
    """Whether `actor` may revoke `membership` (for showing the button)."""
    try:
        _authorize(actor=actor, user=membership.user, branch=membership.branch, role=membership.role)
    except PermissionDenied:
        return False
    return True


def _authorize(*, actor: User | None, user: User, branch: Branch, role: Role) -> None:
    """Raise PermissionDenied unless `actor` may change `user`'s `role` at `branch`.

    Actor None is the platform itself (management commands, demo loader).
    """
    if actor is None:
        return
    if not may_manage_memberships(actor, branch):
        raise PermissionDenied(_("You do not have permission to manage staff roles in this branch."))
    if role_is_system(role) and not scope.in_scope(actor, Perm.SYSTEM_ACCOUNTS, branch):
        raise PermissionDenied(_("Only the system administrator can grant or revoke this role."))
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot change your own roles; ask another administrator."))


def _check_separation_of_duties(*, user: User, role: Role, held: Iterable[Role]) -> None:
    held = list(held)
    if role_is_system(role) and any(_role_is_business(r) for r in held):
        raise ValidationError(
            {"role": _("This person holds a business role, so cannot also be a system administrator.")}
        )
    if _role_is_business(role) and any(role_is_system(r) for r in held):
        raise ValidationError(
            {"role": _("This person is a system administrator, so cannot also hold a business role.")}
        )


def _snapshot(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.user.get_username(),
        "role": membership.role.code,
        "branch_id": membership.branch_id,
        "branch": membership.branch.name,
    }


def membership_grant(
    *,
    actor: User | None,
    user: User,
    branch: Branch,
    role: Role,
    meta: RequestMeta | None = None,
) -> Membership:
    """Give `user` the `role` at `branch`, reaching its whole subtree."""
    given = user
    with transaction.atomic():
        # Locking the grantee serialises grants to one person, so two concurrent
        # grants cannot both pass the separation-of-duties check.
        user = User.objects.select_for_update().get(pk=user.pk)
        _authorize(actor=actor, user=user, branch=branch, role=role)
        if not user.is_active:
            raise ValidationError({"user": _("This account is disabled.")})
        if not Branch.objects.filter(pk=branch.pk, is_active=True).exists():
            raise ValidationError(_("Roles cannot be granted at an inactive branch."))
        held = Role.objects.filter(memberships__user=user).distinct()
        _check_separation_of_duties(user=user, role=role, held=held)
        if Membership.objects.filter(user=user, branch=branch, role=role).exists():
            raise ValidationError(_("This person already holds this role at this branch."))
        membership = Membership(user=user, branch=branch, role=role, granted_by=actor)
        membership.full_clean()
        membership.save()
        audit_record(
            actor=actor,
            action="membership.grant",
            obj=membership,
            branch=branch,
            after=_snapshot(membership),
            meta=meta,
        )
    # Scope is cached per user object; the caller's copy must see the change too.
    scope.forget_scope_cache(given)
    return membership


def membership_revoke(
    *,
    actor: User | None,
    membership: Membership,
    meta: RequestMeta | None = None,
) -> None:
    """Take a role away. The membership row goes; the audit row keeps its history."""
    given = membership.user
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        membership = Membership.objects.select_related("branch", "role", "user").get(pk=membership.pk)
        _authorize(actor=actor, user=user, branch=membership.branch, role=membership.role)
        before = _snapshot(membership)
        pk = membership.pk
        membership.delete()
        audit_record(
            actor=actor,
            action="membership.revoke",
            object_type=Membership._meta.label_lower,
            object_id=pk,
            branch=membership.branch,
            before=before,
            meta=meta,
        )
    scope.forget_scope_cache(given)
