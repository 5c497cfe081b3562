"""The approvals router: my pending items, one item, decide.

The same selectors and services as the pages, so the same rules: an item out of
reach is a 404; a decision the caller may not make is a 403 with the reason and
changes nothing; a decision on a step that has moved on is a 409.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from rendao.approvals import registry, selectors, services
from rendao.approvals.models import ApprovalRequest, Decision, Outcome, RequestStatus, RequestStep
from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import User

router = Router(tags=["approvals"])


def _stale() -> str:
    return _("This step has already been decided or the item is finished: reload it.")


class PersonBrief(Schema):
    id: int
    username: str
    display_name: str


class ApprovalOut(Schema):
    id: int
    process_type: str = Field(description="The registered process type's key, e.g. `matter`.")
    process_type_label: str
    title: str
    status: RequestStatus
    branch_id: int
    branch_name: str
    amount_fen: int | None = Field(description="Integer fen (1 yuan = 100 fen); null if no amount.")
    requester: PersonBrief
    round: int = Field(description="1 for the first submission, +1 for each resubmission after a return.")
    current_step_id: int | None = Field(description="Send it back with a decision.")
    current_role: str | None = Field(description="Code of the role that decides the current step.")
    current_due_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_process_type_label(obj: ApprovalRequest) -> str:
        return registry.label_of(obj.process_type)

    @staticmethod
    def resolve_branch_name(obj: ApprovalRequest) -> str:
        return obj.branch.name

    @staticmethod
    def resolve_current_role(obj: ApprovalRequest) -> str | None:
        return obj.current_role.code if obj.current_role else None


class DecisionOut(Schema):
    id: int
    step_id: int
    round: int
    outcome: Outcome
    comment: str
    decided_by: PersonBrief
    on_behalf_of: PersonBrief | None = Field(description="The delegator, when decided by their delegate.")
    decided_at: datetime


class StepOut(Schema):
    id: int
    position: int
    role: str = Field(description="Role code.")
    branch_id: int
    branch_name: str
    second_approver: bool = Field(description="Added by the two-person rule for large amounts.")
    due_at: datetime | None
    escalated_at: datetime | None
    decided_at: datetime | None

    @staticmethod
    def resolve_role(obj: RequestStep) -> str:
        return obj.role.code

    @staticmethod
    def resolve_branch_name(obj: RequestStep) -> str:
        return obj.branch.name


class ApprovalDetailOut(ApprovalOut):
    steps: list[StepOut] = Field(description="The steps of the current round, in order.")
    decisions: list[DecisionOut] = Field(description="Every decision, all rounds, oldest first.")
    may_decide: bool = Field(description="Whether the caller may decide the current step now.")


class DecideIn(Schema):
    outcome: Outcome
    comment: str = Field("", max_length=2000, description="Required to reject or return.")
    step_id: int = Field(description="The current step the decision is about (`current_step_id`).")


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get(
    "/pending",
    response={200: list[ApprovalOut], **errors(401, 422)},
    summary="Items whose current step I may decide now",
)
@paginate(Pagination)
def pending_list(request: HttpRequest) -> QuerySet[ApprovalRequest]:
    """Including items I may decide as someone's delegate; soonest due first."""
    return (
        selectors.pending_for(_caller(request))
        .select_related("branch", "requester", "current_role")
        .order_by("current_due_at", "id")
    )


class _Detail:
    """An item with its steps and decisions, read by ApprovalDetailOut as attributes."""

    def __init__(self, user: User, item: ApprovalRequest) -> None:
        self._item = item
        self.steps = list(
            RequestStep.objects.filter(request=item, round=item.round)
            .select_related("role", "branch")
            .order_by("position")
        )
        self.decisions = list(
            Decision.objects.filter(request=item)
            .select_related("decided_by", "on_behalf_of")
            .order_by("decided_at", "id")
        )
        self.may_decide = selectors.may_decide(user=user, request=item)

    def __getattr__(self, name: str) -> object:
        return getattr(self._item, name)


def _detail(user: User, item: ApprovalRequest) -> _Detail:
    return _Detail(user, item)


@router.get(
    "/{approval_id}",
    response={200: ApprovalDetailOut, **errors(401, 404, 422)},
    summary="One item with its steps and decisions",
)
def approval_detail(request: HttpRequest, approval_id: int) -> _Detail:
    user = _caller(request)
    return _detail(user, selectors.request_get_for(user=user, pk=approval_id))


@router.post(
    "/{approval_id}/decide",
    response={200: ApprovalDetailOut, **errors(401, 403, 404, 409, 422)},
    summary="Approve, reject or return the current step",
)
def approval_decide(request: HttpRequest, approval_id: int, body: DecideIn) -> _Detail:
    """403: the caller may not decide this step (requested it, already decided a step of
    it, does not hold the role there…); 409: the step has been decided meanwhile or the
    item is finished; 422: bad input (e.g. no comment on reject/return)."""
    user = _caller(request)
    item = selectors.request_get_for(user=user, pk=approval_id)
    if item.status != RequestStatus.PENDING or item.current_step_id != body.step_id:
        if item.status == RequestStatus.PENDING:
            # A stale step id must not hide a refusal of authority: raises 403 with the reason.
            selectors.deciding_authority(user=user, request=item, now=timezone.now())
        raise HttpError(409, _stale())
    try:
        services.request_decide(
            actor=user,
            request=item,
            outcome=body.outcome,
            comment=body.comment,
            step_id=body.step_id,
            meta=RequestMeta.from_request(request),
        )
    except ValidationError as exc:
        if item.status != RequestStatus.PENDING or _moved_on(item, body.step_id):
            raise HttpError(409, _stale()) from exc
        raise
    item.refresh_from_db()
    return _detail(user, item)


def _moved_on(item: ApprovalRequest, step_id: int) -> bool:
    current = ApprovalRequest.objects.filter(pk=item.pk).values_list("status", "current_step_id").first()
    return current is None or current[0] != RequestStatus.PENDING or current[1] != step_id
