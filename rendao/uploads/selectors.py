"""Reads: attachments for a user, through the purpose's access rule only."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rendao.core import scope
from rendao.uploads.models import Attachment
from rendao.uploads.purposes import all_purposes, get_purpose_or_none

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import Branch, User


def attachment_get_for_user(*, user: User | AnonymousUser, pk: object) -> Attachment:
    """The attachment if `user` may read it; Http404 otherwise.

    Not allowed and absent look the same (never a 403), so attachment ids
    cannot be probed. An attachment whose purpose is no longer registered is
    readable by its uploader alone.
    """
    if not user.is_authenticated or not user.is_active:
        raise Http404(_("Not found."))
    try:
        key = UUID(str(pk))
        attachment = Attachment.objects.select_related("branch").get(pk=key)
    except (ValueError, Attachment.DoesNotExist) as exc:
        raise Http404(_("Not found.")) from exc
    purpose = get_purpose_or_none(attachment.purpose)
    # An unregistered purpose (a feature removed since) leaves the uploader alone.
    allowed = purpose.allows_read(user, attachment) if purpose else attachment.owner_id == user.pk
    if not allowed:
        raise Http404(_("Not found."))
    return attachment


def readable_q(user: User | AnonymousUser) -> Q:
    """Rows the user may read by the purposes' permissions, in SQL.

    The uploader's own, plus, per purpose, those whose branch lies where the user
    holds that purpose's read permission. A purpose with a rule of its own
    (`may_read`) lists only what this gives; its detail access still follows
    its rule.
    """
    q = Q(owner_id=user.pk)
    for purpose in all_purposes():
        paths = scope.scope_paths(user, purpose.read_perm)
        if paths:
            q |= Q(purpose=purpose.code) & scope.path_q(paths)
    return q


def attachment_list_for_branch(*, user: User | AnonymousUser, branch: Branch) -> QuerySet[Attachment]:
    """Attachments in `branch`'s subtree that `user` may read, newest first."""
    if not user.is_authenticated or not user.is_active:
        return Attachment.objects.none()
    return (
        Attachment.objects.filter(branch__path__startswith=branch.path)
        .filter(readable_q(user))
        .select_related("branch", "owner")
        .order_by("-created_at", "id")
    )
