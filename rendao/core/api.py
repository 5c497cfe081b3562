"""The core router: branches and accounts.

Public operations (`auth=None`) show only what a branch publishes about its
office. Staff operations read through `rendao.core.scope`, so a caller sees
exactly the subtrees where a role gives the permission (narrowed further to a
token's branch); an id outside that scope is a 404, as if it did not exist.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import, and through `@paginate`'s wrapper it would resolve the
# strings in ninja's module instead of this one.

import secrets
from datetime import datetime
from typing import Any, Literal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from rendao.core import scope
from rendao.core.api_auth import api_token_of
from rendao.core.audit import RequestMeta
from rendao.core.masking import mask_mobile
from rendao.core.models import ApiToken, Branch, Membership, Role, User
from rendao.core.permissions import Perm
from rendao.core.selectors import BRANCH_SEE_PERMS, MEMBERSHIP_SEE_PERMS
from rendao.core.services.tokens import token_revoke

router = Router()


class PageInput(Schema):
    limit: int = Field(50, ge=1, le=200, description="Items per page (1–200).")
    offset: int = Field(0, ge=0, description="Items to skip.")


class Pagination(LimitOffsetPagination):
    """`limit` (1–200, default 50) and `offset`; answers `{"items", "count"}`.

    The bounds are part of the input schema, so a limit out of range is a 422
    rather than silently clamped. Other apps' list operations use this class too.
    """

    Input = PageInput  # type: ignore[assignment]


# --- Schemas ---------------------------------------------------------------


class ErrorDetail(Schema):
    loc: list[str | int] = Field(description="Where: the input source, then the field.")
    message: str
    type: str


class ErrorBody(Schema):
    code: str = Field(
        description="not_found, forbidden, unauthorized, csrf_failed, validation_error, bad_request, "
        "method_not_allowed, rate_limited, server_error, …"
    )
    message: str = Field(description="For people, in the caller's language.")
    details: list[ErrorDetail] | None = Field(None, description="One entry per invalid input.")


class ErrorOut(Schema):
    """The one shape of every error the API returns (see rendao/api.py)."""

    error: ErrorBody


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Error responses for an operation's OpenAPI entry: `response={200: X, **errors(404)}`.

    Every operation can also answer 429 (rate limited); it is added here.
    """
    return {status: ErrorOut for status in (*statuses, 429)}


class BranchOut(Schema):
    """A branch's public office information: no personal data."""

    id: int
    name: str
    kind: Branch.Kind
    institution_type: Branch.InstitutionType
    division_code: str
    parent_id: int | None = Field(description="The parent branch; null for the city society.")
    address: str
    contact_phone: str = Field(description="The branch office's telephone.")


class StaffBranchOut(BranchOut):
    """What staff see of a branch in their scope."""

    depth: int = Field(description="1 for the city society, 2 for a district, and so on.")
    contact_name: str
    population: int | None
    is_active: bool


class MembershipBrief(Schema):
    role: str = Field(description="Role code.")
    role_name: str
    branch_id: int
    branch_name: str
    label: str = Field(description="“role@branch”, for display.")


class TokenBrief(Schema):
    name: str
    prefix: str
    branch_id: int | None
    expires_at: datetime | None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    mobile_masked: str | None = Field(description="The mobile number with its middle digits hidden.")
    authenticated_by: Literal["session", "token"]
    token: TokenBrief | None = Field(description="The access token used, when one was.")
    memberships: list[MembershipBrief]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token reads `rdo_<prefix>_<secret>`; the secret is not shown again.")
    branch_id: int | None = Field(description="The branch the token is limited to, if any.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")


class UserBrief(Schema):
    id: int
    username: str
    display_name: str


class RoleBrief(Schema):
    code: str
    name: str = Field(description="In the caller's language for built-in roles.")

    @staticmethod
    def resolve_name(obj: Role) -> str:
        return obj.label


class BranchBrief(Schema):
    id: int
    name: str


class MembershipOut(Schema):
    id: int
    user: UserBrief
    role: RoleBrief
    branch: BranchBrief
    created_at: datetime


class MembershipFilter(Schema):
    branch: int | None = Field(None, description="Only memberships at this branch (must be in scope).")
    subtree: bool = Field(True, description="With `branch`: include the branches under it.")


# --- Helpers ---------------------------------------------------------------


def _with_parent_id(qs: QuerySet[Branch]) -> QuerySet[Branch]:
    """Annotate each branch with its parent's id in the same query.

    The tree has no parent column: the parent is the row whose path is this
    path minus its last step. A correlated subquery on the unique path index
    keeps a page of branches at one query, however many rows it has.
    """
    parent = Branch.objects.filter(
        path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Branch.steplen)
    ).values("pk")[:1]
    annotated: QuerySet[Branch] = qs.annotate(parent_id=Subquery(parent, output_field=IntegerField()))
    return annotated


PUBLIC_BRANCH_FIELDS = (
    "id",
    "path",
    "name",
    "kind",
    "institution_type",
    "division_code",
    "address",
    "contact_phone",
)


def _public_branches() -> QuerySet[Branch]:
    return _with_parent_id(Branch.objects.filter(is_active=True).only(*PUBLIC_BRANCH_FIELDS))


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _scope_paths(user: User, perms: tuple[Perm, ...]) -> list[str]:
    """Subtrees where the user holds any of `perms`; 403 if there are none.

    A caller with the permission nowhere gets a 403 rather than an empty list,
    so a misconfigured integration fails loudly.
    """
    paths = [p for perm in perms for p in scope.scope_paths(user, perm)]
    if not paths:
        raise PermissionDenied(_("Your roles do not give you access to this."))
    return paths


# --- Public ----------------------------------------------------------------


class BranchPage(Schema):
    items: list[BranchOut]
    count: int = Field(description="Active branches in all.")


# Seconds a rendered page of the public branch list is kept. Branch writes bump
# the list's version (rendao.core.signals), so this is only a safety net.
BRANCH_LIST_CACHE_SECONDS = 300
BRANCH_LIST_VERSION_KEY = "rendao:api:branches:version"


def branch_list_version() -> str:
    version = cache.get(BRANCH_LIST_VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        cache.add(BRANCH_LIST_VERSION_KEY, version, None)
        version = cache.get(BRANCH_LIST_VERSION_KEY, version)
    return str(version)


@router.get(
    "/branches",
    auth=None,
    response={200: BranchPage, **errors(422)},
    tags=["branches"],
    summary="List active branches (public)",
)
def branch_list(request: HttpRequest, page: Query[PageInput]) -> HttpResponse:
    """Every active branch in tree order, with its public office information.

    Read by every visitor's branch finder and by open-data clients, and it
    changes a few times a year: each page is rendered once per version of the
    list and then served from the cache as ready JSON.
    """
    key = f"rendao:api:branches:{branch_list_version()}:{page.limit}:{page.offset}"
    body: bytes | None = cache.get(key)
    if body is None:
        qs = _public_branches().order_by("path")
        items = list(qs[page.offset : page.offset + page.limit])
        data = BranchPage.model_validate({"items": items, "count": qs.count()}, from_attributes=True)
        body = data.model_dump_json().encode()
        cache.set(key, body, BRANCH_LIST_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


@router.get(
    "/branches/{branch_id}",
    auth=None,
    response={200: BranchOut, **errors(404, 422)},
    tags=["branches"],
    summary="One active branch (public)",
)
def branch_detail(request: HttpRequest, branch_id: int) -> Branch:
    try:
        return _public_branches().get(pk=branch_id)
    except Branch.DoesNotExist as exc:
        raise Http404 from exc


# --- Signed in -------------------------------------------------------------


@router.get("/me", response={200: MeOut, **errors(401)}, tags=["accounts"], summary="Who the caller is")
def me(request: HttpRequest) -> dict[str, Any]:
    """The caller's account and roles. Personal data is masked."""
    user = _caller(request)
    token = api_token_of(request)
    memberships = Membership.objects.filter(user=user).select_related("role", "branch")
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "mobile_masked": mask_mobile(user.mobile) or None,
        "authenticated_by": "token" if token else "session",
        "token": token,
        "memberships": [
            {
                "role": m.role.code,
                "role_name": m.role.label,
                "branch_id": m.branch_id,
                "branch_name": m.branch.name,
                "label": f"{m.role.label}@{m.branch.name}",
            }
            for m in memberships.order_by("branch__path", "role__code")
        ],
    }


@router.get(
    "/me/tokens",
    response={200: list[TokenOut], **errors(401, 422)},
    tags=["accounts"],
    summary="The caller's access tokens",
)
@paginate(Pagination)
def my_token_list(request: HttpRequest) -> QuerySet[ApiToken]:
    """Newest first. Tokens are created on the staff page, where the secret is shown once."""
    return ApiToken.objects.filter(user=_caller(request)).order_by("-created_at", "-id")


@router.post(
    "/me/tokens/{token_id}/revoke",
    response={200: TokenOut, **errors(401, 403, 404, 422)},
    tags=["accounts"],
    summary="Revoke one of the caller's access tokens",
)
def my_token_revoke(request: HttpRequest, token_id: int) -> ApiToken:
    """Takes effect at once, also for the token sending this request. Revoking twice is harmless."""
    user = _caller(request)
    try:
        token = ApiToken.objects.get(pk=token_id, user=user)
    except ApiToken.DoesNotExist as exc:
        # Someone else's token looks exactly like one that does not exist.
        raise Http404 from exc
    return token_revoke(actor=user, token=token, meta=RequestMeta.from_request(request))


# --- Staff -----------------------------------------------------------------


@router.get(
    "/staff/branches",
    response={200: list[StaffBranchOut], **errors(401, 403, 422)},
    tags=["branches"],
    summary="Branches in the caller's scope",
)
@paginate(Pagination)
def staff_branch_list(request: HttpRequest) -> QuerySet[Branch]:
    """Branches (active or not) the caller may see, in tree order.

    The same rule as the staff pages (`rendao.core.selectors`): where the caller
    may view branches, or grant roles as a system administrator.
    """
    paths = _scope_paths(_caller(request), BRANCH_SEE_PERMS)
    qs = Branch.objects.filter(scope.path_q(paths, field=""))
    return _with_parent_id(qs).order_by("path")


@router.get(
    "/staff/memberships",
    response={200: list[MembershipOut], **errors(401, 403, 404, 422)},
    tags=["accounts"],
    summary="Staff memberships in the caller's scope",
)
@paginate(Pagination)
def staff_membership_list(request: HttpRequest, filters: Query[MembershipFilter]) -> QuerySet[Membership]:
    """Who holds which role where, within the caller's scope.

    A `branch` outside the caller's scope is a 404, as if it did not exist.
    """
    paths = _scope_paths(_caller(request), MEMBERSHIP_SEE_PERMS)
    qs = Membership.objects.filter(scope.path_q(paths)).select_related("user", "role", "branch")
    if filters.branch is not None:
        try:
            branch = Branch.objects.filter(scope.path_q(paths, field="")).get(pk=filters.branch)
        except Branch.DoesNotExist as exc:
            raise Http404 from exc
        qs = qs.filter(branch__path__startswith=branch.path) if filters.subtree else qs.filter(branch=branch)
    return qs.order_by("branch__path", "role__code", "user__username", "id")
