"""Reads of branches and memberships for a user, always through the branch scope.

Branches are visible to a user where they hold BRANCH_VIEW, and also where they
hold SYSTEM_ACCOUNTS: the system administrator holds no business permission,
but has to find a branch to grant roles at it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from rendao.core import scope
from rendao.core.models import Branch, Membership
from rendao.core.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

# Either permission lets a user see a branch (see the module docstring).
BRANCH_SEE_PERMS = (Perm.BRANCH_VIEW, Perm.SYSTEM_ACCOUNTS)
# Either permission lets a user see who holds which role at a branch.
MEMBERSHIP_SEE_PERMS = (Perm.MEMBERSHIP_VIEW, Perm.SYSTEM_ACCOUNTS)


def branch_list_for(*, user: User | AnonymousUser) -> QuerySet[Branch]:
    """Every branch the user may see, in tree order: one query."""
    paths = [p for perm in BRANCH_SEE_PERMS for p in scope.scope_paths(user, perm)]
    branches: QuerySet[Branch] = Branch.objects.all()
    if not paths:
        return branches.none()
    return branches.filter(scope.path_q(paths, field="")).order_by("path")


def branch_get_for(*, user: User | AnonymousUser, pk: object) -> Branch:
    """One branch the user may see, or Http404 (out of scope looks absent)."""
    branches: QuerySet[Branch] = Branch.objects.all()
    for perm in BRANCH_SEE_PERMS:
        try:
            return scope.get_in_scope(branches, user=user, perm=perm, field="", pk=pk)
        except Http404:
            continue
    raise Http404


def membership_list_for(*, user: User | AnonymousUser, branch: Branch) -> QuerySet[Membership]:
    """Memberships held at `branch`, if the user may see them there (else none)."""
    if not any(scope.in_scope(user, perm, branch) for perm in MEMBERSHIP_SEE_PERMS):
        return Membership.objects.none()
    return (
        Membership.objects.filter(branch=branch)
        .select_related("user", "role", "branch", "granted_by")
        .order_by("role_id", "user__username")
    )


def membership_get_for(*, user: User | AnonymousUser, pk: object) -> Membership:
    """One membership at a branch the user may see memberships of, or Http404."""
    qs = Membership.objects.select_related("user", "role", "branch")
    for perm in MEMBERSHIP_SEE_PERMS:
        try:
            return scope.get_in_scope(qs, user=user, perm=perm, pk=pk)
        except Http404:
            continue
    raise Http404
