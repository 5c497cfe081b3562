"""Reads of the approvals engine: who may decide now, inboxes, access to one item.

"Who may decide the current step" has one definition, written twice on purpose
and tested to agree (tests/test_engine_properties.py):

- `deciding_authority` answers it for one item and one user, in Python, under the
  item's row lock, for the services;
- `pending_for` answers it for every item at once as one SQL filter, for inboxes.

A user U may decide the current step of an item R (round n, role r, branch path p)
when, for U themselves or for someone P who has delegated to U right now:

- R is pending;
- neither U nor P requested R;
- neither U nor P has decided (or been decided for) a step of R in round n;
- P holds role r at the branch with path p or at a branch above it (a role held at
  a branch reaches its subtree: the membership's path is a prefix of p);
- with a personal access token limited to a branch, p lies inside that branch.

The inbox query is constant in the number of items: one query over the current
step's role and branch path, denormalised onto the item row (see `pending_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.approvals.models import ApprovalRequest, Decision, Delegation, RequestStatus
from rendao.core import scope
from rendao.core.models import Membership
from rendao.core.permissions import Perm
from rendao.core.workbench import user_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

# Per-request cache on the user object, like rendao.core.scope's.
_AUTHORITY_ROWS_ATTR = "_rendao_approval_authority_rows"


@dataclass(frozen=True)
class Authority:
    """In whose right a user decides: their own (on_behalf_of None) or a delegator's."""

    user_id: int
    on_behalf_of_id: int | None


def _token_path(user: User | AnonymousUser) -> str | None:
    path: str | None = getattr(user, scope.TOKEN_BRANCH_ATTR, None)
    return path


def authority_rows(user: User, now: datetime, *, fresh: bool = False) -> list[tuple[int, int, str]]:
    """(holder id, role id, branch path) of the user's memberships and of their
    active delegators' memberships: one query, kept for the rest of the request.

    Services pass `fresh=True` to read them again under the item's row lock.
    """
    rows: list[tuple[int, int, str]] | None = None if fresh else user.__dict__.get(_AUTHORITY_ROWS_ATTR)
    if rows is None:
        delegators = Delegation.objects.filter(
            to_user=user, starts_at__lte=now, ends_at__gt=now, from_user__is_active=True
        ).values("from_user_id")
        rows = list(
            Membership.objects.filter(Q(user=user) | Q(user_id__in=delegators)).values_list(
                "user_id", "role_id", "branch__path"
            )
        )
        user.__dict__[_AUTHORITY_ROWS_ATTR] = rows
    return rows


def forget_authority_cache(user: User) -> None:
    """Forget what was read of the user's memberships and delegations in this request."""
    user.__dict__.pop(_AUTHORITY_ROWS_ATTR, None)
    scope.forget_scope_cache(user)


def _decided_by(person_id: int) -> Exists:
    """The item has a decision in its current round by or for this person."""
    return Exists(
        Decision.objects.filter(request=OuterRef("pk"), round=OuterRef("round")).filter(
            Q(decided_by_id=person_id) | Q(on_behalf_of_id=person_id)
        )
    )


def _delegated_rights(user: User, now: datetime) -> Exists:
    """The item's current step is held by someone who has delegated to `user` right now.

    A prefix join in SQL: a delegator's membership of the step's role at a branch
    whose path starts the step's path; never for the delegator's own items nor
    for items the delegator has already decided in this round.
    """
    delegators = Delegation.objects.filter(
        to_user=user, starts_at__lte=now, ends_at__gt=now, from_user__is_active=True
    ).values("from_user_id")
    already = Decision.objects.filter(
        request_id=OuterRef(OuterRef("pk")), round=OuterRef(OuterRef("round"))
    ).filter(Q(decided_by_id=OuterRef("user_id")) | Q(on_behalf_of_id=OuterRef("user_id")))
    held = (
        Membership.objects.filter(user_id__in=delegators, role_id=OuterRef("current_role_id"))
        .filter(branch__path=Substr(OuterRef("current_path"), 1, Length("branch__path")))
        .exclude(user_id=OuterRef("requester_id"))
        .exclude(Exists(already))
    )
    return Exists(held)


def pending_for(user: User | AnonymousUser, *, now: datetime | None = None) -> QuerySet[ApprovalRequest]:
    """Items whose current step `user` may decide now (as themselves or as a delegate).

    One query: the user's own memberships come from the per-request list every
    staff page has already read (`user_memberships`), each becoming a
    `current_role = r AND current_path LIKE 'm%'` term that the index on
    (status, current_role, current_path) answers; rights through a delegation are
    an EXISTS prefix join on the same query.
    """
    qs = ApprovalRequest.objects.filter(status=RequestStatus.PENDING)
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    now = now or timezone.now()
    rights = Q(pk__in=[])
    for membership in user_memberships(user):
        rights |= Q(current_role_id=membership.role_id, current_path__startswith=membership.branch.path)
    rights |= Q(_delegated_rights(user, now))
    qs = qs.exclude(requester_id=user.pk).filter(rights).exclude(_decided_by(user.pk))
    token_path = _token_path(user)
    if token_path is not None:
        qs = qs.filter(current_path__startswith=token_path)
    return qs


def deciding_authority(
    *, user: User, request: ApprovalRequest, now: datetime, fresh: bool = False
) -> Authority:
    """In whose right `user` may decide `request`'s current step; PermissionDenied with the reason.

    The caller holds the request's row lock, so the answer stays true until it commits.
    """
    if not user.is_active:
        raise PermissionDenied(_("This account is disabled."))
    if request.status != RequestStatus.PENDING:
        raise PermissionDenied(_("This item is not waiting for a decision."))
    if request.requester_id == user.pk:
        raise PermissionDenied(_("You requested this item, so you cannot decide it."))
    involved = set(
        Decision.objects.filter(request=request, round=request.round).values_list(
            "decided_by_id", "on_behalf_of_id"
        )
    )
    involved_ids = {pk for pair in involved for pk in pair if pk is not None}
    if user.pk in involved_ids:
        raise PermissionDenied(_("You have already decided a step of this item."))
    token_path = _token_path(user)
    if token_path is not None and not request.current_path.startswith(token_path):
        raise PermissionDenied(_("Your access token does not reach this branch."))

    rows = authority_rows(user, now, fresh=fresh)

    def holds(holder_id: int) -> bool:
        return any(
            h == holder_id and role_id == request.current_role_id and request.current_path.startswith(path)
            for h, role_id, path in rows
        )

    if holds(user.pk):
        return Authority(user_id=user.pk, on_behalf_of_id=None)
    delegators = sorted({h for h, _r, _p in rows if h != user.pk})
    for delegator_id in delegators:
        if delegator_id == request.requester_id or delegator_id in involved_ids:
            continue
        if holds(delegator_id):
            return Authority(user_id=user.pk, on_behalf_of_id=delegator_id)
    raise PermissionDenied(_("Only a holder of this step's role, at this branch or above, may decide it."))


def may_decide(*, user: User, request: ApprovalRequest, now: datetime | None = None) -> bool:
    try:
        deciding_authority(user=user, request=request, now=now or timezone.now())
    except PermissionDenied:
        return False
    return True


def requested_by(user: User) -> QuerySet[ApprovalRequest]:
    """Items the user requested, newest first."""
    return ApprovalRequest.objects.filter(requester=user)


def decided_by(user: User) -> QuerySet[ApprovalRequest]:
    """Items the user has decided a step of (themselves or for them through a delegate)."""
    took_part = Decision.objects.filter(request=OuterRef("pk")).filter(
        Q(decided_by=user) | Q(on_behalf_of=user)
    )
    return ApprovalRequest.objects.filter(Exists(took_part))


def request_get_for(*, user: User, pk: object, now: datetime | None = None) -> ApprovalRequest:
    """One item for `user`, or Http404: out of reach looks the same as absent.

    Who may see an item: its requester, whoever has decided a step of it (or had
    one decided for them), whoever may decide its current step now, and auditors
    (AUDIT_VIEW) within their scope.
    """
    try:
        request_id = int(str(pk))
    except (TypeError, ValueError) as exc:
        raise Http404(_("Not found.")) from exc
    visible = (
        Q(requester_id=user.pk)
        | Q(pk__in=decided_by(user).values("pk"))
        | Q(pk__in=pending_for(user, now=now).values("pk"))
        | scope.path_q(scope.scope_paths(user, Perm.AUDIT_VIEW))
    )
    found = (
        ApprovalRequest.objects.filter(visible)
        .select_related("branch", "requester", "current_role", "current_step")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise Http404(_("Not found."))
    return found


def delegations_for(user: User) -> QuerySet[Delegation]:
    """Delegations the user gave or received, newest first."""
    return (
        Delegation.objects.filter(Q(from_user=user) | Q(to_user=user))
        .select_related("from_user", "to_user")
        .order_by("-starts_at", "-id")
    )
