"""Fundraising projects (募捐项目): the plan, its lifecycle, its co-initiators.

Lifecycle (Charity Law Art 24–26, 73)::

    draft → in_approval → approved → filed → open → closed → final_report_published
              │ (engine)                 ▲
              └── rejected/withdrawn → draft
    approved → open  (emergency projects only: filed within 10 days of opening)

`project_transition` is the one service that moves a project; the transitions
table says who may make each move: staff (through the service) or the approvals
engine (through the "fundraising_plan" callbacks). A project returned for
revision by the engine stays in_approval: the engine's request is still open and
the requester resubmits or withdraws it (withdrawn → draft).

Permission: every staff move and every co-initiator change needs
Perm.FINANCE_MANAGE at the project's branch. Fundraising is finance work (the
plan's money, channels and bank account); branch administrators take part as
deciders of the approval flow, not as editors — that keeps the one who drafts
the plan apart from the ones who approve it.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.approvals import registry
from rendao.core.audit import audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.funds.accounting import account_open
from rendao.funds.models import Account, CoInitiator, FundraisingProject, ProjectEvent, ProjectStatus
from rendao.funds.payments import CHANNELS

if TYPE_CHECKING:
    from rendao.approvals.models import ApprovalRequest
    from rendao.core.audit import RequestMeta
    from rendao.core.models import Branch, User
    from rendao.uploads.models import Attachment

PROCESS_TYPE = "fundraising_plan"
PERM = Perm.FINANCE_MANAGE
# Emergency projects may open first and must be filed within this many days.
EMERGENCY_FILING_DAYS = 10
# 10 billion yuan: far above any appeal; a typo guard.
MAX_AMOUNT_FEN = 1_000_000_000_000

S = ProjectStatus
Party = Literal["staff", "engine"]

TRANSITIONS: dict[tuple[ProjectStatus, ProjectStatus], Party] = {
    (S.DRAFT, S.IN_APPROVAL): "staff",
    (S.IN_APPROVAL, S.APPROVED): "engine",
    (S.IN_APPROVAL, S.DRAFT): "engine",
    (S.APPROVED, S.FILED): "staff",
    (S.APPROVED, S.OPEN): "staff",  # emergency projects only (guarded below)
    (S.FILED, S.OPEN): "staff",
    (S.OPEN, S.CLOSED): "staff",
    (S.CLOSED, S.FINAL_REPORT_PUBLISHED): "staff",
}

_TEXT_FIELDS: dict[str, tuple[Any, int]] = {
    # field: (label for the error, max length; 0 = a text field, capped at 5000)
    "title": (gettext_lazy("title"), 200),
    "purpose": (gettext_lazy("purpose"), 0),
    "area": (gettext_lazy("area"), 200),
    "responsible_name": (gettext_lazy("responsible person"), 100),
    "responsible_office_address": (gettext_lazy("office address"), 300),
    "bank_account": (gettext_lazy("receiving bank account"), 200),
    "beneficiaries": (gettext_lazy("beneficiaries"), 0),
    "intended_use": (gettext_lazy("intended use"), 0),
    "leftover_handling": (gettext_lazy("handling of leftover property"), 0),
}


def _today(now: datetime) -> date:
    return timezone.localdate(now)


def _validate_plan(
    *,
    texts: dict[str, str],
    start_date: date,
    end_date: date,
    channels: list[str],
    target_fen: int,
    cost_fen: int,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for name, (label, limit) in _TEXT_FIELDS.items():
        value = (texts.get(name) or "").strip()
        cap = limit or 5000
        if not value:
            errors[name] = _("Fill in the %(field)s.") % {"field": label}
        elif len(value) > cap:
            errors[name] = _("The %(field)s is too long (at most %(n)s characters).") % {
                "field": label,
                "n": cap,
            }
        cleaned[name] = value
    # `type(...) is int`: a bool, float or Decimal means yuan were converted somewhere.
    if type(target_fen) is not int or not 0 < target_fen <= MAX_AMOUNT_FEN:
        errors["target_fen"] = _("The target amount must be above zero (whole fen).")
    if type(cost_fen) is not int or not 0 <= cost_fen <= MAX_AMOUNT_FEN:
        errors["cost_fen"] = _("The fundraising cost cannot be negative (whole fen).")
    if not isinstance(start_date, date) or not isinstance(end_date, date):
        errors["end_date"] = _("Give the start and end dates.")
    elif end_date < start_date:
        errors["end_date"] = _("The end date cannot be before the start date.")
    if not channels:
        errors["channels"] = _("Choose at least one payment channel.")
    elif any(c not in CHANNELS for c in channels):
        errors["channels"] = _("Unknown payment channel.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def project_create(
    *,
    actor: User,
    branch: Branch,
    title: str,
    purpose: str,
    start_date: date,
    end_date: date,
    area: str,
    responsible_name: str,
    responsible_office_address: str,
    channels: list[str],
    bank_account: str,
    beneficiaries: str,
    intended_use: str,
    cost_fen: int,
    leftover_handling: str,
    target_fen: int,
    restricted: bool = False,
    emergency: bool = False,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> FundraisingProject:
    """Record a project plan as a draft at `branch`."""
    require_perm(actor, PERM, branch)
    if not branch.is_active:
        raise ValidationError(_("This branch is no longer active."))
    channels = list(dict.fromkeys(channels or []))
    cleaned = _validate_plan(
        texts={
            "title": title,
            "purpose": purpose,
            "area": area,
            "responsible_name": responsible_name,
            "responsible_office_address": responsible_office_address,
            "bank_account": bank_account,
            "beneficiaries": beneficiaries,
            "intended_use": intended_use,
            "leftover_handling": leftover_handling,
        },
        start_date=start_date,
        end_date=end_date,
        channels=channels,
        target_fen=target_fen,
        cost_fen=cost_fen,
    )
    now = now or timezone.now()
    with transaction.atomic():
        project = FundraisingProject.objects.create(
            branch=branch,
            start_date=start_date,
            end_date=end_date,
            channels=channels,
            cost_fen=cost_fen,
            target_fen=target_fen,
            restricted=bool(restricted),
            emergency=bool(emergency),
            created_by=actor,
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        ProjectEvent.objects.create(project=project, from_status="", to_status=S.DRAFT, actor=actor, at=now)
        audit_record(
            actor=actor,
            action="funds.project.create",
            obj=project,
            branch=branch,
            after={
                "target_fen": target_fen,
                "restricted": project.restricted,
                "emergency": project.emergency,
                "channels": channels,
            },
            meta=meta,
        )
    return project


PLAN_FIELDS = (
    "title",
    "purpose",
    "start_date",
    "end_date",
    "area",
    "responsible_name",
    "responsible_office_address",
    "channels",
    "bank_account",
    "beneficiaries",
    "intended_use",
    "cost_fen",
    "leftover_handling",
    "target_fen",
    "restricted",
    "emergency",
)


def project_update(
    *,
    actor: User,
    project: FundraisingProject,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
    **plan: Any,
) -> FundraisingProject:
    """Change the plan of a DRAFT project (also one sent back by its approvers).

    Only drafts: once submitted, the approvers decide on the plan as it was;
    after approval a changed plan is a new plan. The audit row keeps which
    fields changed, before and after.
    """
    require_perm(actor, PERM, project.branch)
    unknown = set(plan) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    channels = list(dict.fromkeys(plan.get("channels") or []))
    cleaned = _validate_plan(
        texts={name: plan.get(name, "") for name in _TEXT_FIELDS},
        start_date=plan.get("start_date"),  # type: ignore[arg-type]
        end_date=plan.get("end_date"),  # type: ignore[arg-type]
        channels=channels,
        target_fen=plan.get("target_fen"),  # type: ignore[arg-type]
        cost_fen=plan.get("cost_fen"),  # type: ignore[arg-type]
    )
    values: dict[str, Any] = {
        **cleaned,
        "start_date": plan["start_date"],
        "end_date": plan["end_date"],
        "channels": channels,
        "cost_fen": plan["cost_fen"],
        "target_fen": plan["target_fen"],
        "restricted": bool(plan.get("restricted")),
        "emergency": bool(plan.get("emergency")),
    }
    now = now or timezone.now()
    with transaction.atomic():
        locked = FundraisingProject.objects.select_for_update().get(pk=project.pk)
        if locked.status != S.DRAFT:
            raise ValidationError(
                _("Only a draft plan can be changed; this one is “%(status)s”.")
                % {"status": S(locked.status).label},
                code="not_draft",
            )
        changed = {name: value for name, value in values.items() if getattr(locked, name) != value}
        if changed:
            before = {name: _auditable(getattr(locked, name)) for name in changed}
            for name, value in changed.items():
                setattr(locked, name, value)
            locked.updated_at = now
            locked.save()
            audit_record(
                actor=actor,
                action="funds.project.update",
                obj=locked,
                branch=locked.branch,
                before=before,
                after={name: _auditable(value) for name, value in changed.items()},
                meta=meta,
            )
    project.refresh_from_db()
    return project


def _auditable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _restricted_fund(project: FundraisingProject, *, actor: User | None) -> Account | None:
    """Open the project's restricted fund account once (code RF-<id>)."""
    if not project.restricted:
        return None
    existing = Account.objects.filter(project=project, kind=Account.Kind.RESTRICTED_FUND).first()
    if existing is not None:
        return existing
    account = account_open(
        code=f"RF-{project.pk}",
        name=project.title[:200],
        kind=Account.Kind.RESTRICTED_FUND,
        branch=project.branch,
        actor=actor,
    )
    account.project = project
    account.save(update_fields=["project"])
    return account


def _move(
    project: FundraisingProject,
    *,
    to: ProjectStatus,
    actor: User | None,
    now: datetime,
    note: str = "",
    extra: dict[str, Any] | None = None,
    meta: RequestMeta | None = None,
) -> None:
    """Write the new status, the event row and the audit row (caller holds the lock)."""
    frm = project.status
    project.status = to
    project.updated_at = now
    project.save()
    ProjectEvent.objects.create(
        project=project, from_status=frm, to_status=to, actor=actor, note=note, at=now
    )
    audit_record(
        actor=actor,
        action=f"funds.project.{to}",
        obj=project,
        branch=project.branch,
        before={"status": frm},
        after={"status": to, **(extra or {})},
        meta=meta,
    )


def _refuse(project: FundraisingProject, to: ProjectStatus) -> ValidationError:
    return ValidationError(
        _("A project that is “%(frm)s” cannot become “%(to)s”.")
        % {"frm": S(project.status).label, "to": to.label},
        code="transition",
    )


def _clean_filing(filing_number: str, filed_on: date | None, today: date) -> str:
    number = (filing_number or "").strip()
    errors: dict[str, str] = {}
    if not number:
        errors["filing_number"] = _("Give the filing number issued by the civil affairs department.")
    elif len(number) > 64:
        errors["filing_number"] = _("The filing number is too long (at most 64 characters).")
    if not isinstance(filed_on, date):
        errors["filed_on"] = _("Give the filing date.")
    elif filed_on > today:
        errors["filed_on"] = _("The filing date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    return number


def project_transition(
    *,
    actor: User,
    project: FundraisingProject,
    to: ProjectStatus | str,
    filing_number: str = "",
    filed_on: date | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> FundraisingProject:
    """Move `project` to status `to`, as the transitions table and its guards allow.

    Refusals raise PermissionDenied (not FINANCE_MANAGE at the project's branch)
    or a translated ValidationError, and change nothing. `filing_number` and
    `filed_on` are for `to=filed`, and for recording the filing of an emergency
    project that is already open (`to=open` on an open project).
    """
    try:
        target = S(to)
    except ValueError as exc:
        raise ValidationError(_("Unknown project status."), code="status") from exc
    require_perm(actor, PERM, project.branch)
    now = now or timezone.now()
    today = _today(now)
    with transaction.atomic():
        locked = FundraisingProject.objects.select_for_update().get(pk=project.pk)
        frm = S(locked.status)
        if frm == S.OPEN and target == S.OPEN:
            _record_late_filing(
                locked, actor=actor, number=filing_number, filed_on=filed_on, now=now, meta=meta
            )
        else:
            party = TRANSITIONS.get((frm, target))
            if party is None:
                raise _refuse(locked, target)
            if party != "staff":
                raise ValidationError(
                    _("Only the approval of the plan can make this change."), code="engine_only"
                )
            _staff_move(
                locked,
                frm=frm,
                to=target,
                actor=actor,
                number=filing_number,
                filed_on=filed_on,
                now=now,
                today=today,
                meta=meta,
            )
    project.refresh_from_db()
    return project


def _staff_move(
    project: FundraisingProject,
    *,
    frm: ProjectStatus,
    to: ProjectStatus,
    actor: User,
    number: str,
    filed_on: date | None,
    now: datetime,
    today: date,
    meta: RequestMeta | None,
) -> None:
    extra: dict[str, Any] = {}
    if to == S.IN_APPROVAL:
        from rendao.approvals.services import request_submit

        request = request_submit(actor=actor, process_type=PROCESS_TYPE, obj=project, meta=meta, now=now)
        _move(project, to=to, actor=actor, now=now, extra={"approval_request": request.pk}, meta=meta)
        return
    if to == S.FILED:
        project.filing_number = _clean_filing(number, filed_on, today)
        project.filed_on = filed_on
        extra = {"filing_number": project.filing_number, "filed_on": str(filed_on)}
        _move(project, to=to, actor=actor, now=now, extra=extra, meta=meta)
        account = _restricted_fund(project, actor=actor)
        if account is not None:
            audit_record(
                actor=actor,
                action="funds.project.restricted_fund",
                obj=project,
                branch=project.branch,
                after={"account_id": account.pk},
                meta=meta,
            )
        return
    if to == S.OPEN:
        if frm == S.APPROVED and not project.emergency:
            raise ValidationError(
                _("The project must be filed before it opens (only emergency projects may open first)."),
                code="not_filed",
            )
        if not project.start_date <= today <= project.end_date:
            raise ValidationError(
                _("A project can open only between its start and end dates."), code="outside_dates"
            )
        project.opened_on = today
        if project.filed_on is None:
            project.filing_deadline = today + timedelta(days=EMERGENCY_FILING_DAYS)
        extra = {"opened_on": str(today), "filing_deadline": str(project.filing_deadline or "")}
        _move(project, to=to, actor=actor, now=now, extra=extra, meta=meta)
        # An emergency project takes donations before filing: its fund must exist.
        _restricted_fund(project, actor=actor)
        from rendao.funds.donations import donation_accounts_open

        donation_accounts_open(project, actor=actor)
        return
    if to == S.CLOSED:
        project.closed_on = today
    elif to == S.FINAL_REPORT_PUBLISHED:
        project.final_report_published_on = today
    _move(project, to=to, actor=actor, now=now, meta=meta)


def _record_late_filing(
    project: FundraisingProject,
    *,
    actor: User,
    number: str,
    filed_on: date | None,
    now: datetime,
    meta: RequestMeta | None,
) -> None:
    if project.filed_on is not None:
        raise ValidationError(_("This project has already been filed."), code="already_filed")
    project.filing_number = _clean_filing(number, filed_on, _today(now))
    project.filed_on = filed_on
    late = project.filing_deadline is not None and filed_on is not None and filed_on > project.filing_deadline
    _move(
        project,
        to=S.OPEN,
        actor=actor,
        now=now,
        note="filed late" if late else "filed",
        extra={"filing_number": project.filing_number, "filed_on": str(filed_on), "late": late},
        meta=meta,
    )


# --- the approvals engine's side ----------------------------------------------------------


def _engine_move(to: ProjectStatus, note: str) -> registry.Callback:
    def callback(project: FundraisingProject, request: ApprovalRequest) -> None:
        locked = FundraisingProject.objects.select_for_update().get(pk=project.pk)
        if TRANSITIONS.get((S(locked.status), to)) != "engine":
            raise _refuse(locked, to)
        _move(locked, to=to, actor=None, now=request.updated_at, note=f"{note} #{request.pk}")

    return callback


def register_process_type() -> None:
    """Called from FundsConfig.ready(); the default flow is seeded by migration 0003."""
    registry.register(
        registry.ProcessType(
            key=PROCESS_TYPE,
            label=gettext_lazy("Fundraising plan"),
            model=FundraisingProject,
            branch_of=lambda p: p.branch,
            amount_of=lambda p: p.target_fen,
            title_of=lambda p: p.title,
            on_approved=_engine_move(S.APPROVED, "approved"),
            on_rejected=_engine_move(S.DRAFT, "rejected"),
            on_withdrawn=_engine_move(S.DRAFT, "withdrawn"),
        )
    )


# --- co-initiators (Art 26) ------------------------------------------------------------------


def _new_code() -> str:
    # 96 random bits, 16 url-safe characters.
    return secrets.token_urlsafe(12)


def coinitiator_add(
    *,
    actor: User,
    project: FundraisingProject,
    organisation_name: str,
    assessment_note: str,
    role: str,
    agreement: Attachment | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> CoInitiator:
    """Add a co-initiating organisation, with a fresh attribution code."""
    require_perm(actor, PERM, project.branch)
    organisation_name = (organisation_name or "").strip()
    assessment_note = (assessment_note or "").strip()
    role = (role or "").strip()
    errors: dict[str, str] = {}
    if not organisation_name or len(organisation_name) > 200:
        errors["organisation_name"] = _("Give the organisation's name (at most 200 characters).")
    if not assessment_note or len(assessment_note) > 5000:
        errors["assessment_note"] = _("Record the assessment of the organisation (at most 5000 characters).")
    if not role or len(role) > 100:
        errors["role"] = _("Give the organisation's role (at most 100 characters).")
    if project.status in (S.CLOSED, S.FINAL_REPORT_PUBLISHED):
        errors["project"] = _("A closed project takes no new co-initiators.")
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                co = CoInitiator.objects.create(
                    project=project,
                    organisation_name=organisation_name,
                    assessment_note=assessment_note,
                    role=role,
                    agreement=agreement,
                    attribution_code=_new_code(),
                    created_at=now,
                )
                audit_record(
                    actor=actor,
                    action="funds.project.coinitiator_add",
                    obj=co,
                    branch=project.branch,
                    after={"project": project.pk, "agreement": str(agreement.pk) if agreement else None},
                    meta=meta,
                )
                return co
        except IntegrityError:
            # A code collision (2^-96): draw again.
            continue
    raise RuntimeError("could not allocate a unique attribution code")
