"""Writes of the approvals engine. Every rule is enforced here, never by callers.

- `request_submit`: an object of a registered process type enters its flow.
- `request_decide`: approve, reject or return the current step.
- `request_resubmit`: the requester sends a returned item back, after editing it.
- `request_withdraw`: the requester takes back an open item.
- `request_transition`: the one place where an item's status changes, checked
  against `TRANSITIONS`; runs the process type's callbacks on a final status.
- `delegation_create` / `delegation_end`; `approvals_sweep` (reminders and
  escalation, run periodically).

Locks: every write that touches an item first locks its `ApprovalRequest` row
(select_for_update) and re-reads it, and takes no other lock before it, so two
decisions on one item queue up and the second sees the first; the audit head is
locked after it (by `audit_record`), always in that order.

A returned item resumes **from the start** of its flow, in a new round: the
requester may have changed anything (the amount, the purpose), approvals given to
the earlier version do not carry over to the new one, and a new amount may add or
remove steps. Decisions of earlier rounds stay as history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Model, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rendao.approvals import registry
from rendao.approvals.models import (
    ApprovalRequest,
    Decision,
    Delegation,
    Flow,
    Level,
    Outcome,
    RequestStatus,
    RequestStep,
)
from rendao.approvals.selectors import deciding_authority, forget_authority_cache
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import Branch, Membership, User
from rendao.core.services.outbox import message_enqueue

if TYPE_CHECKING:
    from rendao.core.models import Role

S = RequestStatus

# Allowed status changes and who makes each: "decider" (someone with authority
# over the current step, checked by request_decide) or "requester".
TRANSITIONS: dict[tuple[RequestStatus, RequestStatus], Literal["decider", "requester"]] = {
    (S.PENDING, S.APPROVED): "decider",
    (S.PENDING, S.REJECTED): "decider",
    (S.PENDING, S.RETURNED): "decider",
    (S.PENDING, S.WITHDRAWN): "requester",
    (S.RETURNED, S.PENDING): "requester",
    (S.RETURNED, S.WITHDRAWN): "requester",
}
FINAL = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})
MAX_COMMENT = 2000
# Recipients of one notification; roles are held by a handful of people per
# branch, so this only guards against a misconfigured role held by hundreds.
MAX_RECIPIENTS = 100
# Delegations are for absences; anything longer is a role grant, not a delegation.
MAX_DELEGATION_DAYS = 92


# --- flows ------------------------------------------------------------------------


def _ancestor_paths(branch: Branch) -> list[str]:
    """The paths of the branch and every branch above it, root first."""
    step = Branch.steplen
    return [branch.path[: i * step] for i in range(1, len(branch.path) // step + 1)]


def flow_for(*, process_type: str, branch: Branch) -> Flow | None:
    """The active flow of the nearest branch at or above `branch`, else the default."""
    candidates = (
        Flow.objects.filter(process_type=process_type, is_active=True)
        .filter(Q(branch__isnull=True) | Q(branch__path__in=_ancestor_paths(branch)))
        .select_related("branch")
    )
    best: Flow | None = None
    for flow in candidates:
        depth = len(flow.branch.path) if flow.branch else 0
        if best is None or depth > (len(best.branch.path) if best.branch else 0):
            best = flow
    return best


def level_path(level: str, branch: Branch) -> str:
    """The path of the branch where a step at `level` is held, for an object at `branch`.

    "district" is the ancestor at depth 2 (a district under the city society);
    for an object at the city society itself it is the city society. "parent"
    of the city society is the city society.
    """
    step: int = Branch.steplen
    path: str = branch.path
    if level == Level.SAME:
        return path
    if level == Level.PARENT:
        return path[:-step] if len(path) > step else path
    if level == Level.DISTRICT:
        return path[: 2 * step]
    if level == Level.CITY:
        return path[:step]
    raise ValueError(level)


def _two_person_threshold() -> int:
    return int(settings.APPROVAL_TWO_PERSON_FEN)


def planned_steps(*, process_type: str, branch: Branch, amount_fen: int | None) -> list[dict[str, Any]]:
    """The steps an object would go through now: role, level, branch, hours, second_approver."""
    flow = flow_for(process_type=process_type, branch=branch)
    if flow is None:
        raise ValidationError(_("No approval flow is set up for this kind of item at this branch."))
    specs: list[tuple[Role, str, int, bool]] = [
        (s.role, s.level, s.hours, False)
        for s in flow.steps.select_related("role").order_by("position")
        if s.min_amount_fen is None or (amount_fen is not None and amount_fen >= s.min_amount_fen)
    ]
    if not specs:
        raise ValidationError(_("The approval flow for this kind of item has no steps that apply."))
    # Two distinct approvers for large amounts, whatever the flow says: the
    # engine adds a second step of the last step's role (distinctness is then
    # the one-person-one-step rule).
    if amount_fen is not None and amount_fen >= _two_person_threshold() and len(specs) < 2:
        role, level, hours, _second = specs[-1]
        specs.append((role, level, hours, True))
    paths = {level_path(level, branch) for _r, level, _h, _s in specs}
    branches = {b.path: b for b in Branch.objects.filter(path__in=paths)}
    return [
        {
            "role": role,
            "level": level,
            "branch": branches[level_path(level, branch)],
            "hours": hours,
            "second_approver": second,
        }
        for role, level, hours, second in specs
    ]


def _start_round(request: ApprovalRequest, *, now: datetime) -> RequestStep:
    """Create the steps of the request's current round and make the first one current."""
    plan = planned_steps(
        process_type=request.process_type, branch=request.branch, amount_fen=request.amount_fen
    )
    steps = []
    for position, spec in enumerate(plan, start=1):
        step = RequestStep(request=request, round=request.round, position=position, **spec)
        steps.append(step)
    RequestStep.objects.bulk_create(steps)
    first = RequestStep.objects.get(request=request, round=request.round, position=1)
    _make_current(request, first, now=now)
    return first


def _make_current(request: ApprovalRequest, step: RequestStep, *, now: datetime) -> None:
    step.start(now)
    step.save(update_fields=["started_at", "due_at", "remind_at"])
    request.current_step = step
    request.current_role_id = step.role_id
    request.current_path = step.branch.path
    request.current_due_at = step.due_at


def _clear_current(request: ApprovalRequest) -> None:
    request.current_step = None
    request.current_role = None
    request.current_path = ""
    request.current_due_at = None


def _locked(request: ApprovalRequest) -> ApprovalRequest:
    return (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("branch", "current_step", "requester")
        .get(pk=request.pk)
    )


def _snapshot(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "status": request.status,
        "round": request.round,
        "step": request.current_step.position if request.current_step else None,
        "role_id": request.current_role_id,
        "amount_fen": request.amount_fen,
    }


# --- notifications ----------------------------------------------------------------


def _url(request: ApprovalRequest) -> str:
    return settings.SITE_URL + reverse("approvals:detail", kwargs={"pk": request.pk})


def _send(users: Iterable[User], *, kind: str, subject: str, body: str, branch: Branch | None) -> int:
    """One message per user: e-mail when they have an address, else the console channel."""
    sent = 0
    for user in list(users)[:MAX_RECIPIENTS]:
        channel, recipient = ("email", user.email) if user.email else ("console", user.get_username())
        message_enqueue(
            channel=channel,
            recipient=recipient,
            kind=kind,
            subject=subject,
            body=body,
            user=user,
            branch=branch,
        )
        sent += 1
    return sent


def holders(*, role_id: int, path: str, exclude: Iterable[int] = ()) -> list[User]:
    """Active holders of the role at the branch with `path` or above it, and their active delegates."""
    step = Branch.steplen
    prefixes = [path[: i * step] for i in range(1, len(path) // step + 1)]
    holder_ids = set(
        Membership.objects.filter(
            role_id=role_id, branch__path__in=prefixes, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    now = timezone.now()
    delegate_ids = set(
        Delegation.objects.filter(
            from_user_id__in=holder_ids, starts_at__lte=now, ends_at__gt=now, to_user__is_active=True
        ).values_list("to_user_id", flat=True)
    )
    wanted = (holder_ids | delegate_ids) - set(exclude)
    return list(User.objects.filter(pk__in=wanted).order_by("pk"))


def _participants(request: ApprovalRequest) -> set[int]:
    rows = Decision.objects.filter(request=request, round=request.round).values_list(
        "decided_by_id", "on_behalf_of_id"
    )
    return {pk for pair in rows for pk in pair if pk is not None}


def _notify_deciders(request: ApprovalRequest, *, kind: str = "approval.waiting") -> int:
    if request.current_role_id is None:
        return 0
    users = holders(
        role_id=request.current_role_id,
        path=request.current_path,
        exclude={request.requester_id, *_participants(request)},
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Approval waiting: %(title)s") % {"title": request.title}
        body = _("“%(title)s” (%(type)s, %(branch)s) is waiting for your decision until %(due)s. %(url)s") % {
            "title": request.title,
            "type": registry.label_of(request.process_type),
            "branch": request.branch.name,
            "due": timezone.localtime(request.current_due_at).strftime("%Y-%m-%d %H:%M")
            if request.current_due_at
            else "-",
            "url": _url(request),
        }
    return _send(users, kind=kind, subject=subject, body=body, branch=request.branch)


def _notify_requester(request: ApprovalRequest, *, what: str, comment: str = "") -> int:
    with translation.override(settings.LANGUAGE_CODE):
        messages = {
            "step": _("“%(title)s” passed a step and moves on to the next one."),
            S.APPROVED: _("“%(title)s” has been approved."),
            S.REJECTED: _("“%(title)s” has been rejected."),
            S.RETURNED: _("“%(title)s” has been returned to you for revision."),
        }
        body = messages[what] % {"title": request.title}
        if comment:
            body += " " + _("Comment: %(comment)s") % {"comment": comment}
        body += " " + _url(request)
        subject = _("Your request: %(title)s") % {"title": request.title}
    return _send(
        [request.requester], kind=f"approval.{what}", subject=subject, body=body, branch=request.branch
    )


# --- the transition service -------------------------------------------------------


def _process_object(request: ApprovalRequest) -> Model:
    ptype = registry.get(request.process_type)
    obj: Model = ptype.model._default_manager.get(pk=request.object_id)
    return obj


def request_transition(
    *,
    request: ApprovalRequest,
    to: RequestStatus,
    by: Literal["decider", "requester"],
    actor: User | None,
    now: datetime,
    meta: RequestMeta | None = None,
    comment: str = "",
) -> ApprovalRequest:
    """Change the status of a locked request, as the transitions table allows.

    The caller holds the row lock and has checked the actor's authority for its
    side (`by`). On a final status the process type's callback runs here, inside
    the same transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("request_transition runs inside the caller's transaction")
    frm = RequestStatus(request.status)
    party = TRANSITIONS.get((frm, to))
    if party is None:
        raise ValidationError(
            _("An item that is “%(frm)s” cannot become “%(to)s”.") % {"frm": frm.label, "to": to.label}
        )
    if party != by:
        raise PermissionDenied(_("You may not make this change."))
    if by == "requester" and (actor is None or actor.pk != request.requester_id):
        raise PermissionDenied(_("Only the requester may do this."))
    before = _snapshot(request)
    request.status = to
    request.updated_at = now
    if to != S.PENDING:
        _clear_current(request)
    if to in FINAL:
        request.finished_at = now
    request.save()
    audit_record(
        actor=actor,
        action=f"approval.{to}",
        obj=request,
        branch=request.branch,
        before=before,
        after={**_snapshot(request), "comment": comment},
        meta=meta,
    )
    if to in FINAL:
        ptype = registry.get(request.process_type)
        callback = {S.APPROVED: ptype.on_approved, S.REJECTED: ptype.on_rejected}.get(to, ptype.on_withdrawn)
        if callback is not None:
            callback(_process_object(request), request)
    return request


# --- submit, decide, resubmit, withdraw ----------------------------------------------


def request_submit(
    *,
    actor: User,
    process_type: str,
    obj: Model,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Put `obj` through its flow, requested by `actor`.

    The owning app has already decided that `actor` may ask for this (e.g. may
    create the object); the engine decides everything after that.
    """
    try:
        ptype = registry.get(process_type)
    except KeyError as exc:
        raise ValidationError(_("Unknown kind of item.")) from exc
    if not isinstance(obj, ptype.model):
        raise ValidationError(_("This object is not of the kind the process type approves."))
    amount = ptype.amount_of(obj)
    if amount is not None and amount < 0:
        raise ValidationError({"amount_fen": _("The amount cannot be negative.")})
    now = now or timezone.now()
    with transaction.atomic():
        if ApprovalRequest.objects.filter(
            process_type=process_type,
            object_id=obj.pk,
            status__in=[S.PENDING, S.RETURNED],
        ).exists():
            raise ValidationError(_("This item is already under approval."))
        request = ApprovalRequest(
            process_type=process_type,
            object_id=obj.pk,
            title=ptype.title_of(obj)[:200],
            branch=ptype.branch_of(obj),
            amount_fen=amount,
            requester=actor,
            round=1,
            created_at=now,
            updated_at=now,
            # Satisfies the current-iff-pending constraint until the first step exists.
            status=S.RETURNED,
        )
        request.save()
        _start_round(request, now=now)
        request.status = S.PENDING
        request.save()
        audit_record(
            actor=actor,
            action="approval.submit",
            obj=request,
            branch=request.branch,
            after={**_snapshot(request), "process_type": process_type, "object_id": obj.pk},
            meta=meta,
        )
        _notify_deciders(request)
    return request


def _clean_comment(outcome: str, comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": _("The comment is too long (at most 2000 characters).")})
    if outcome in (Outcome.REJECT, Outcome.RETURN) and not comment:
        raise ValidationError({"comment": _("Say why: a comment is required to reject or return.")})
    return comment


def request_decide(
    *,
    actor: User,
    request: ApprovalRequest,
    outcome: str,
    comment: str = "",
    step_id: int | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide the current step of `request`: approve, reject or return it for revision.

    `step_id`, when given, is the step the decider was looking at: if the item
    has moved on since (someone else decided), the decision is refused instead
    of landing on a step the decider never saw.
    """
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose approve, reject or return.")})
    comment = _clean_comment(outcome, comment)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(request)
        if locked.status != S.PENDING:
            raise ValidationError(_("This item is not waiting for a decision."))
        if step_id is not None and locked.current_step_id != step_id:
            raise ValidationError(_("This step has already been decided: reload the item."))
        forget_authority_cache(actor)
        authority = deciding_authority(user=actor, request=locked, now=now, fresh=True)
        step = locked.current_step
        assert step is not None  # noqa: S101 - pending implies a current step (constraint)
        decision = Decision.objects.create(
            request=locked,
            step=step,
            round=locked.round,
            outcome=outcome,
            comment=comment,
            decided_by=actor,
            on_behalf_of_id=authority.on_behalf_of_id,
            requester_id=locked.requester_id,
            decided_at=now,
        )
        step.decided_at = now
        step.save(update_fields=["decided_at"])
        audit_record(
            actor=actor,
            action=f"approval.decide.{outcome}",
            obj=locked,
            branch=locked.branch,
            before=_snapshot(locked),
            after={
                "step": step.position,
                "round": locked.round,
                "outcome": outcome,
                "on_behalf_of": authority.on_behalf_of_id,
            },
            meta=meta,
        )
        if outcome == Outcome.APPROVE:
            following = (
                RequestStep.objects.filter(request=locked, round=locked.round, position__gt=step.position)
                .select_related("branch")
                .order_by("position")
                .first()
            )
            if following is not None:
                _make_current(locked, following, now=now)
                locked.updated_at = now
                locked.save()
                _notify_deciders(locked)
                _notify_requester(locked, what="step")
            else:
                request_transition(
                    request=locked, to=S.APPROVED, by="decider", actor=actor, now=now, meta=meta
                )
                _notify_requester(locked, what=S.APPROVED)
        else:
            to = S.REJECTED if outcome == Outcome.REJECT else S.RETURNED
            request_transition(
                request=locked, to=to, by="decider", actor=actor, now=now, meta=meta, comment=comment
            )
            _notify_requester(locked, what=to, comment=comment)
    # The caller's copy reflects the new state.
    request.refresh_from_db()
    forget_authority_cache(actor)
    return decision


def request_resubmit(
    *,
    actor: User,
    request: ApprovalRequest,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Send a returned item through its flow again, from the first step, in a new round.

    The owning app changes the object first (in the same transaction, e.g.
    `matter_revise`); title, branch and amount are read from it again here.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(request)
        if locked.requester_id != actor.pk:
            raise PermissionDenied(_("Only the requester may do this."))
        if locked.status != S.RETURNED:
            raise ValidationError(_("Only an item returned for revision can be submitted again."))
        ptype = registry.get(locked.process_type)
        obj = _process_object(locked)
        amount = ptype.amount_of(obj)
        if amount is not None and amount < 0:
            raise ValidationError({"amount_fen": _("The amount cannot be negative.")})
        locked.title = ptype.title_of(obj)[:200]
        locked.branch = ptype.branch_of(obj)
        locked.amount_fen = amount
        locked.round += 1
        locked.save()
        _start_round(locked, now=now)
        request_transition(request=locked, to=S.PENDING, by="requester", actor=actor, now=now, meta=meta)
        _notify_deciders(locked)
    request.refresh_from_db()
    return locked


def request_withdraw(
    *,
    actor: User,
    request: ApprovalRequest,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """The requester takes back an item that is pending or returned."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(request)
        if locked.requester_id != actor.pk:
            raise PermissionDenied(_("Only the requester may do this."))
        if locked.status not in (S.PENDING, S.RETURNED):
            raise ValidationError(_("This item is already finished."))
        request_transition(request=locked, to=S.WITHDRAWN, by="requester", actor=actor, now=now, meta=meta)
    request.refresh_from_db()
    return locked


# --- delegation ---------------------------------------------------------------------


def delegation_create(
    *,
    actor: User,
    to_user: User,
    starts_at: datetime,
    ends_at: datetime,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> Delegation:
    """`actor` lets `to_user` decide in their place from `starts_at` until `ends_at`."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if to_user.pk == actor.pk:
        errors["to_user"] = _("You cannot delegate to yourself.")
    elif not to_user.is_active:
        errors["to_user"] = _("This account is disabled.")
    elif not Membership.objects.filter(user=to_user).exists():
        errors["to_user"] = _("Only a staff member can be a delegate.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    elif ends_at <= now:
        errors["ends_at"] = _("The end must be in the future.")
    elif (ends_at - starts_at).days > MAX_DELEGATION_DAYS:
        errors["ends_at"] = _("A delegation lasts at most %(days)d days.") % {"days": MAX_DELEGATION_DAYS}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        delegation = Delegation.objects.create(
            from_user=actor, to_user=to_user, starts_at=starts_at, ends_at=ends_at, created_at=now
        )
        audit_record(
            actor=actor,
            action="approval.delegation.create",
            obj=delegation,
            after={
                "to_user": to_user.get_username(),
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
            meta=meta,
        )
    return delegation


def delegation_end(
    *, actor: User, delegation: Delegation, meta: RequestMeta | None = None, now: datetime | None = None
) -> Delegation:
    """End a delegation now (the delegator, or the delegate giving it back)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if actor.pk not in (locked.from_user_id, locked.to_user_id):
            raise PermissionDenied(_("This is not your delegation."))
        if locked.ends_at <= now:
            raise ValidationError(_("This delegation has already ended."))
        before = {"starts_at": locked.starts_at.isoformat(), "ends_at": locked.ends_at.isoformat()}
        locked.ends_at = now
        if locked.starts_at >= now:
            # Not started yet: it becomes an empty interval in the past.
            locked.starts_at = now - timedelta(microseconds=1)
        locked.save(update_fields=["starts_at", "ends_at"])
        audit_record(
            actor=actor,
            action="approval.delegation.end",
            obj=locked,
            before=before,
            after={"ends_at": locked.ends_at.isoformat()},
            meta=meta,
        )
    return locked


# --- time limits --------------------------------------------------------------------


def approvals_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Remind deciders of steps near their limit; escalate steps over it.

    Idempotent and safe to run twice at once: each step is claimed by a
    conditional UPDATE (reminded_at / escalated_at still empty) in the same
    transaction as its messages, so only one run sends them.
    """
    now = now or timezone.now()
    reminded = escalated = 0
    open_steps = RequestStep.objects.filter(
        decided_at__isnull=True,
        request__status=S.PENDING,
        request__current_step=F("pk"),
    )
    for step_id in open_steps.filter(
        reminded_at__isnull=True, remind_at__lte=now, due_at__gt=now
    ).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            if not RequestStep.objects.filter(
                pk=step_id, reminded_at__isnull=True, decided_at__isnull=True
            ).update(reminded_at=now):
                continue
            request = _pending_with_step(step_id)
            if request is None:
                continue
            _notify_deciders(request, kind="approval.reminder")
            audit_record(
                actor=None,
                actor_label="system:approvals_sweep",
                action="approval.remind",
                obj=request,
                branch=request.branch,
                after={"step_id": step_id},
            )
            reminded += 1
    for step_id in open_steps.filter(escalated_at__isnull=True, due_at__lte=now).values_list("pk", flat=True)[
        :500
    ]:
        with transaction.atomic():
            if not RequestStep.objects.filter(
                pk=step_id, escalated_at__isnull=True, decided_at__isnull=True
            ).update(
                # An overdue step gets no "near its limit" reminder afterwards.
                escalated_at=now,
                reminded_at=Coalesce("reminded_at", Value(now)),
            ):
                continue
            request = _pending_with_step(step_id)
            if request is None:
                continue
            _escalate(request, now=now)
            escalated += 1
    return {"reminded": reminded, "escalated": escalated}


def _pending_with_step(step_id: int) -> ApprovalRequest | None:
    return (
        ApprovalRequest.objects.select_related("branch", "requester")
        .filter(current_step_id=step_id, status=S.PENDING)
        .first()
    )


def _escalate(request: ApprovalRequest, *, now: datetime) -> int:
    """Tell the holders of the step's role one level up that the step is overdue.

    They may already decide it (a role reaches the subtree below its branch); the
    message is what changes. If nobody holds the role at the branch above, the
    next one up is tried, up to the city society; at the top, its own holders
    are told again.
    """
    assert request.current_role_id is not None  # noqa: S101 - only pending items are escalated
    step = Branch.steplen
    exclude = {request.requester_id, *_participants(request)}
    path = request.current_path
    users: list[User] = []
    while len(path) > step and not users:
        path = path[:-step]
        ids = Membership.objects.filter(
            role_id=request.current_role_id, branch__path=path, user__is_active=True
        ).values_list("user_id", flat=True)
        users = [u for u in User.objects.filter(pk__in=ids).order_by("pk") if u.pk not in exclude]
    if not users:
        users = holders(role_id=request.current_role_id, path=path, exclude=exclude)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Overdue approval: %(title)s") % {"title": request.title}
        body = _(
            "“%(title)s” (%(branch)s) has waited past its time limit for a decision. "
            "You may decide it or follow it up. %(url)s"
        ) % {"title": request.title, "branch": request.branch.name, "url": _url(request)}
    sent = _send(users, kind="approval.escalated", subject=subject, body=body, branch=request.branch)
    audit_record(
        actor=None,
        actor_label="system:approvals_sweep",
        action="approval.escalate",
        obj=request,
        branch=request.branch,
        after={"step_id": request.current_step_id, "notified": sent, "at_path_depth": len(path) // step},
    )
    return sent
