"""Staff reads of disclosures: drafts, those in approval and published ones, in scope.

Who may read a disclosure on the staff side: FINANCE_VIEW at its branch (the
finance officers who draft, auditors, leaders), and whoever the approvals
engine shows its approval request to (its deciders), so an approver can read
what they are asked to publish. Out of reach looks the same as absent (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rendao.approvals.models import ApprovalRequest
from rendao.approvals.selectors import request_get_for
from rendao.core.permissions import Perm
from rendao.core.scope import in_scope, scope_filter
from rendao.disclosure.models import Disclosure
from rendao.disclosure.services import PROCESS_TYPE

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import Branch, User

READ_PERM = Perm.FINANCE_VIEW


def disclosures_for_staff(
    *,
    user: User | AnonymousUser,
    kind: str = "",
    status: str = "",
    branch: Branch | None = None,
) -> QuerySet[Disclosure]:
    """Every version (drafts included) in the user's FINANCE_VIEW scope, newest first.

    `branch` narrows to that branch's subtree (the branch the user is working in).
    """
    qs = scope_filter(Disclosure.objects.all(), user=user, perm=READ_PERM)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if branch is not None:
        qs = qs.filter(branch__path__startswith=branch.path)
    return qs.select_related("branch", "project", "created_by").order_by("-created_at", "-pk")


def approval_requests(disclosure: Disclosure) -> list[ApprovalRequest]:
    """The disclosure's approval requests, newest first."""
    return list(
        ApprovalRequest.objects.filter(process_type=PROCESS_TYPE, object_id=disclosure.pk)
        .select_related("requester")
        .order_by("-pk")
    )


def _decider_may_see(user: User, disclosure: Disclosure) -> bool:
    for request in approval_requests(disclosure):
        try:
            request_get_for(user=user, pk=request.pk)
        except Http404:
            continue
        return True
    return False


def disclosure_get_for_staff(*, user: User, pk: object) -> Disclosure:
    """One disclosure for `user`, or Http404."""
    try:
        disclosure_id = int(str(pk))
    except (TypeError, ValueError) as exc:
        raise Http404(_("Not found.")) from exc
    found = (
        Disclosure.objects.select_related("branch", "project", "created_by", "published_by", "corrects")
        .filter(pk=disclosure_id)
        .first()
    )
    if found is None:
        raise Http404(_("Not found."))
    if in_scope(user, READ_PERM, found.branch) or _decider_may_see(user, found):
        return found
    raise Http404(_("Not found."))


def series_versions(disclosure: Disclosure) -> QuerySet[Disclosure]:
    """Every version of the disclosure's series (drafts too), oldest first."""
    return (
        Disclosure.objects.filter(series=disclosure.series)
        .select_related("created_by", "published_by")
        .order_by("version")
    )
