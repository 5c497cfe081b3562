"""The engine's own process type: a general matter for approval (事项审批).

A purchase, the use of the seal, a trip: anything an office decides by a chain
of signatures. Any staff member with a business role (not read-only, not the
system administrator's) may request one at a branch inside their subtrees; its
flow is the "matter" flow (seeded in migration 0002, edited in the system
configuration).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.approvals import registry
from rendao.approvals.models import ApprovalRequest, Matter, RequestStatus
from rendao.approvals.services import request_resubmit, request_submit
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import Branch
from rendao.core.permissions import BUSINESS_PERMS, READ_PERMS
from rendao.core.scope import path_q
from rendao.core.workbench import user_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

PROCESS_TYPE = "matter"
# 100 million yuan: far above anything an office asks for; a typo guard.
MAX_AMOUNT_FEN = 10_000_000_000


def _matter_outcome(outcome: Matter.Outcome) -> registry.Callback:
    def record(matter: Matter, request: ApprovalRequest) -> None:
        matter.outcome = outcome
        matter.updated_at = timezone.now()
        matter.save(update_fields=["outcome", "updated_at"])

    return record


registry.register(
    registry.ProcessType(
        key=PROCESS_TYPE,
        label=gettext_lazy("Matter for approval"),
        model=Matter,
        branch_of=lambda m: m.branch,
        amount_of=lambda m: m.amount_fen,
        title_of=lambda m: m.title,
        on_approved=_matter_outcome(Matter.Outcome.APPROVED),
        on_rejected=_matter_outcome(Matter.Outcome.REJECTED),
        on_withdrawn=_matter_outcome(Matter.Outcome.WITHDRAWN),
    )
)


def request_paths(user: User | AnonymousUser) -> list[str]:
    """Subtrees where the user may request a matter: those of their business roles that write."""
    paths = {
        m.branch.path
        for m in user_memberships(user)
        if not m.role.read_only
        and set(m.role.permissions or []) & BUSINESS_PERMS
        and set(m.role.permissions or []) - READ_PERMS
    }
    return sorted(paths)


def requestable_branches(user: User | AnonymousUser) -> QuerySet[Branch]:
    paths = request_paths(user)
    branches: QuerySet[Branch] = Branch.objects.all()
    if not paths:
        return branches.none()
    return branches.filter(path_q(paths, field=""), is_active=True).order_by("path")


def _validate(*, title: str, description: str, amount_fen: int | None) -> tuple[str, str]:
    title = (title or "").strip()
    description = (description or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Give the matter a title.")
    elif len(title) > 100:
        errors["title"] = _("The title is too long (at most 100 characters).")
    if not description:
        errors["description"] = _("Describe the matter.")
    elif len(description) > 2000:
        errors["description"] = _("The description is too long (at most 2000 characters).")
    if amount_fen is not None and not 0 <= amount_fen <= MAX_AMOUNT_FEN:
        errors["amount_fen"] = _("The amount must be between 0 and 100,000,000 yuan.")
    if errors:
        raise ValidationError(errors)
    return title, description


def matter_create(
    *,
    actor: User,
    branch: Branch,
    title: str,
    description: str,
    amount_fen: int | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Record a matter at `branch` and submit it for approval, in one transaction."""
    if not branch.is_active or not any(branch.path.startswith(p) for p in request_paths(actor)):
        raise PermissionDenied(_("You cannot request approvals at this branch."))
    title, description = _validate(title=title, description=description, amount_fen=amount_fen)
    now = now or timezone.now()
    with transaction.atomic():
        matter = Matter.objects.create(
            title=title,
            description=description,
            amount_fen=amount_fen,
            branch=branch,
            requested_by=actor,
            created_at=now,
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="approval.matter.create",
            obj=matter,
            branch=branch,
            after={"title": title, "amount_fen": amount_fen},
            meta=meta,
        )
        return request_submit(actor=actor, process_type=PROCESS_TYPE, obj=matter, meta=meta, now=now)


def matter_revise(
    *,
    actor: User,
    request: ApprovalRequest,
    title: str,
    description: str,
    amount_fen: int | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Edit a returned matter and submit it again (from the first step)."""
    if request.process_type != PROCESS_TYPE:
        raise ValidationError(_("This item is not a matter for approval."))
    title, description = _validate(title=title, description=description, amount_fen=amount_fen)
    with transaction.atomic():
        # The request row first, as every approvals write: the engine's lock order.
        locked = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        if locked.requester_id != actor.pk:
            raise PermissionDenied(_("Only the requester may do this."))
        if locked.status != RequestStatus.RETURNED:
            raise ValidationError(_("Only an item returned for revision can be changed."))
        matter = Matter.objects.select_for_update().get(pk=locked.object_id)
        before = {"title": matter.title, "amount_fen": matter.amount_fen}
        matter.title, matter.description, matter.amount_fen = title, description, amount_fen
        matter.updated_at = now or timezone.now()
        matter.save(update_fields=["title", "description", "amount_fen", "updated_at"])
        audit_record(
            actor=actor,
            action="approval.matter.revise",
            obj=matter,
            branch=matter.branch,
            before=before,
            after={"title": title, "amount_fen": amount_fen},
            meta=meta,
        )
        return request_resubmit(actor=actor, request=locked, meta=meta, now=now)


def matter_of(request: ApprovalRequest) -> Matter | None:
    if request.process_type != PROCESS_TYPE:
        return None
    return Matter.objects.filter(pk=request.object_id).first()


def matter_url(request: ApprovalRequest) -> str:
    return reverse("approvals:matter_revise", kwargs={"pk": request.pk})
