"""Reads of the outbox for staff, always through the branch scope.

A message belongs to the branch it was written for. Messages without a branch
(sign-in codes, sent before anyone is known to belong anywhere) are the city
society's: only staff holding the permission at a root branch see them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rendao.core import scope
from rendao.core.models import Branch, OutboxMessage
from rendao.core.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User


def _reaches_root(paths: list[str]) -> bool:
    # A root branch's path is exactly one step of the materialized path.
    return any(len(p) == Branch.steplen for p in paths)


def outbox_scope_q(user: User | AnonymousUser, perm: Perm) -> Q | None:
    """The condition for messages within the user's `perm` scope; None: nothing."""
    paths = scope.scope_paths(user, perm)
    if not paths:
        return None
    q = scope.path_q(paths)
    if _reaches_root(paths):
        q |= Q(branch__isnull=True)
    return q


def outbox_list_for(*, user: User | AnonymousUser) -> QuerySet[OutboxMessage]:
    """Messages the user may read, newest first."""
    q = outbox_scope_q(user, Perm.OUTBOX_VIEW)
    if q is None:
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.filter(q).select_related("branch").order_by("-created_at", "-pk")


def outbox_get_for_retry(*, user: User | AnonymousUser, pk: str | uuid.UUID) -> OutboxMessage:
    """One message the user may send again, or Http404 (out of scope looks absent)."""
    q = outbox_scope_q(user, Perm.OUTBOX_RETRY)
    if q is None:
        raise Http404(_("Not found."))
    try:
        return OutboxMessage.objects.filter(q).get(pk=pk)
    except (OutboxMessage.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


def may_retry(user: User | AnonymousUser, message: OutboxMessage) -> bool:
    """Whether the user may send `message` again (no query once the scope is cached)."""
    paths = scope.scope_paths(user, Perm.OUTBOX_RETRY)
    if message.branch is None:
        return _reaches_root(paths)
    return any(message.branch.path.startswith(p) for p in paths)
