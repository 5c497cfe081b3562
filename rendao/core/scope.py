"""Branch scope: the one place that answers "where may this user do X".

A role held at a branch reaches that branch and its whole subtree. Because the
branch tree is a materialized path, a subtree is "path starts with P", so the
scope of a user is a handful of prefixes and filtering any queryset by it is one
OR of `LIKE 'P%'` conditions — never a loop over branches.

Every staff read or write of a branch-owned object goes through `scope_filter`
or one of the `require_*` / `get_*_in_scope` helpers below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rendao.core.models import Branch, Membership
from rendao.core.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

M = TypeVar("M", bound=Model)

# Set on request.user by token authentication: the token's branch narrows scope.
TOKEN_BRANCH_ATTR = "_rendao_token_branch_path"  # noqa: S105 - an attribute name


def _minimal(prefixes: set[str]) -> list[str]:
    """Drop prefixes already covered by a shorter one (a subtree of a subtree)."""
    kept: list[str] = []
    for p in sorted(prefixes, key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return sorted(kept)


def scope_paths(user: User | AnonymousUser, perm: Perm | str) -> list[str]:
    """Path prefixes of the subtrees where `user` holds `perm` (empty: nowhere)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cache: dict[str, list[str]] = user.__dict__.setdefault("_rendao_scope_cache", {})
    key = str(perm)
    if key not in cache:
        rows = _membership_rows(user)
        prefixes = {path for path, perms in rows if key in perms}
        token_path: str | None = getattr(user, TOKEN_BRANCH_ATTR, None)
        if token_path is not None:
            # A token limited to a branch: keep the parts of each subtree inside it.
            narrowed: set[str] = set()
            for p in prefixes:
                if token_path.startswith(p):
                    narrowed.add(token_path)
                elif p.startswith(token_path):
                    narrowed.add(p)
            prefixes = narrowed
        cache[key] = _minimal(prefixes)
    return cache[key]


def user_memberships(user: User | AnonymousUser) -> list[Membership]:
    """The user's memberships with branch and role, in tree order, read once per request.

    Kept on the user object, which lives as long as the request, so every scope
    check, menu and inbox of a page shares one query.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    memberships: list[Membership] | None = user.__dict__.get("_rendao_memberships")
    if memberships is None:
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("branch", "role")
            .order_by("branch__path", "role_id")
        )
        user.__dict__["_rendao_memberships"] = memberships
    return memberships


def _membership_rows(user: User) -> list[tuple[str, frozenset[str]]]:
    """(branch path, permissions) of each of the user's memberships."""
    return [(m.branch.path, frozenset(m.role.permissions or [])) for m in user_memberships(user)]


def has_perm_anywhere(user: User | AnonymousUser, perm: Perm | str) -> bool:
    return bool(scope_paths(user, perm))


def path_q(paths: list[str], field: str = "branch") -> Q:
    """A Q object matching rows whose `field` branch lies in one of the subtrees."""
    lookup = "path__startswith" if field == "" else f"{field}__path__startswith"
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{lookup: p})
    return q


def scope_filter(
    qs: QuerySet[M], *, user: User | AnonymousUser, perm: Perm | str, field: str = "branch"
) -> QuerySet[M]:
    """Narrow `qs` to rows whose branch (`field`, "" for Branch itself) is in scope."""
    paths = scope_paths(user, perm)
    if not paths:
        return qs.none()
    return qs.filter(path_q(paths, field))


def branches_for(user: User | AnonymousUser, perm: Perm | str) -> QuerySet[Branch]:
    """The branches where `user` may do `perm`, in tree order."""
    return scope_filter(Branch.objects.all(), user=user, perm=perm, field="").order_by("path")


def in_scope(user: User | AnonymousUser, perm: Perm | str, branch: Branch) -> bool:
    return any(branch.path.startswith(p) for p in scope_paths(user, perm))


def require_perm(user: User | AnonymousUser, perm: Perm | str, branch: Branch) -> None:
    """Raise PermissionDenied unless `user` holds `perm` over `branch`."""
    if not in_scope(user, perm, branch):
        raise PermissionDenied(_("You do not have permission to do this in this branch."))


def get_in_scope(
    qs: QuerySet[M],
    *,
    user: User | AnonymousUser,
    perm: Perm | str,
    field: str = "branch",
    **lookup: Any,
) -> M:
    """Fetch one object in scope, or raise Http404 — out-of-scope looks like absent.

    A 404 rather than a 403 so that ids of other branches' records cannot be
    probed for existence.
    """
    try:
        return scope_filter(qs, user=user, perm=perm, field=field).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


def forget_scope_cache(user: User | AnonymousUser) -> None:
    """Call after changing a user's memberships within the same request."""
    user.__dict__.pop("_rendao_scope_cache", None)
    user.__dict__.pop("_rendao_memberships", None)
