"""The staff workbench's current branch: which branches a user may switch to,
and which one they are working in.

A user may switch to any branch in the subtree of a branch where they hold any
membership, whatever the role: some roles (the system administrator's) hold no
`branch.view`, yet their holder still works "at" a branch. What they may *do*
there is still decided per permission by `rendao.core.scope`; the current branch
only narrows what pages show.

The choice lives in the session as a bare id and is checked against the user's
memberships on every request, so a revoked membership takes effect at once and
a tampered session cannot reach outside the user's subtrees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from rendao.core import scope
from rendao.core.models import Branch, Membership
from rendao.core.scope import path_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

SESSION_BRANCH_KEY = "rendao_workbench_branch"
# Per-request caches, kept on the user object like the scope module's: every
# staff page reads the memberships for the top bar, the switcher and the menu.
_BRANCHES_ATTR = "_rendao_switchable_branches"
_CURRENT_ATTR = "_rendao_current_branch"


def user_memberships(user: User | AnonymousUser) -> list[Membership]:
    """The user's memberships with their branch and role, in tree order (one query,
    shared with every scope check of the request)."""
    return scope.user_memberships(user)


def held_perms(user: User | AnonymousUser) -> frozenset[str]:
    """Every permission the user holds at some branch (for showing menu entries;
    access itself is always decided by `rendao.core.scope`)."""
    return frozenset(p for m in user_memberships(user) for p in (m.role.permissions or []))


def membership_paths(user: User | AnonymousUser) -> list[str]:
    """Path prefixes of the subtrees where `user` holds any membership."""
    kept: list[str] = []
    # A subtree inside another adds nothing and would only lengthen the OR.
    for p in sorted({m.branch.path for m in user_memberships(user)}, key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return sorted(kept)


def switchable_branches(user: User | AnonymousUser) -> QuerySet[Branch]:
    """Every branch the user may choose as current, in tree order."""
    paths = membership_paths(user)
    branches: QuerySet[Branch] = Branch.objects.all()
    if not paths:
        return branches.none()
    return branches.filter(path_q(paths, field="")).order_by("path")


def switchable_branch_list(user: User | AnonymousUser) -> list[Branch]:
    """`switchable_branches` evaluated once per request."""
    if not user.is_authenticated:
        return []
    if _BRANCHES_ATTR not in user.__dict__:
        user.__dict__[_BRANCHES_ATTR] = list(switchable_branches(user))
    branches: list[Branch] = user.__dict__[_BRANCHES_ATTR]
    return branches


def get_switchable_branch(user: User | AnonymousUser, branch_id: object) -> Branch:
    """The branch with this id if the user may switch to it; else 404.

    Out of scope and absent look the same, so ids of other branches cannot be
    probed.
    """
    try:
        pk = int(str(branch_id))
    except (TypeError, ValueError) as exc:
        raise Http404(_("Not found.")) from exc
    branch = switchable_branches(user).filter(pk=pk).first()
    if branch is None:
        raise Http404(_("Not found."))
    return branch


def current_branch(request: HttpRequest) -> Branch | None:
    """The branch the user is working in: their choice if still allowed, else
    the topmost branch of their memberships; None for a user with none."""
    if hasattr(request, _CURRENT_ATTR):
        cached: Branch | None = getattr(request, _CURRENT_ATTR)
        return cached
    branches = switchable_branch_list(request.user)
    branch: Branch | None = None
    if branches:
        chosen = request.session.get(SESSION_BRANCH_KEY)
        # A choice no longer in the list (scope shrank since, or a tampered
        # session) falls back silently rather than failing every page.
        branch = next((b for b in branches if b.pk == chosen), None)
        if branch is None:
            branch = min(branches, key=lambda b: (b.depth, b.path))
    setattr(request, _CURRENT_ATTR, branch)
    return branch


def set_current_branch(request: HttpRequest, branch: Branch) -> None:
    """Remember `branch` (already checked by `get_switchable_branch`)."""
    request.session[SESSION_BRANCH_KEY] = branch.pk
    setattr(request, _CURRENT_ATTR, branch)


def branch_initial(request: HttpRequest, branches: QuerySet[Branch]) -> dict[str, int]:
    """Form initial data choosing the branch the user is working in, when it is
    one of `branches` (the branches the form may offer)."""
    current = current_branch(request)
    if current is not None and branches.filter(pk=current.pk).exists():
        return {"branch": current.pk}
    return {}
