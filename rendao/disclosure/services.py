"""Drafting, approving, publishing and correcting disclosures.

Lifecycle: draft → in_approval → published. `disclosure_submit` puts a draft
through the approvals engine (process type "disclosure", default flow: the
branch administrator of the disclosure's branch, seeded by migration 0003); the
engine's approval publishes it, with the approver as `published_by`; a
rejection or withdrawal sends it back to draft, editable again. An item the
approver returns for revision stays in approval but is editable by its
requester, who submits it again. Neither the requester (the engine refuses) nor
the drafter (refused here) may approve it.

`disclosure_publish` is the low-level step (draft → published, no approval) kept
for the demo data and for tests of the publication itself.

A published version is frozen (the database refuses to change it); a correction
is a new draft version of the same series (`corrects` = the published version,
with a note), approved and published in turn. The older version stays published
and visible; the newest published version is current.

Publishing appends one "disclosure_published" leaf to the transparency log in
the same transaction, carrying a SHA-256 of the canonical title, body and
figures, so anyone holding the published text can check it against the log.

Permission: Perm.FINANCE_MANAGE at the disclosure's branch for every write;
the approval itself is the engine's (the flow's role at the flow's level).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.approvals import registry
from rendao.approvals.models import ApprovalRequest, Decision, Outcome, RequestStatus
from rendao.approvals.services import request_resubmit, request_submit
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.disclosure.models import Disclosure, DisclosureStatus, Kind
from rendao.ledger.services import ledger_append

if TYPE_CHECKING:
    from rendao.core.models import Branch, User
    from rendao.funds.models import FundraisingProject

PERM = Perm.FINANCE_MANAGE
PROCESS_TYPE = "disclosure"
TITLE_MAX = 200
BODY_MAX = 20000
NOTE_MAX = 2000
FIGURES_MAX = 100
LABEL_MAX = 100
# 10 billion yuan in fen: far above any figure we publish; a typo guard.
MAX_FIGURE_FEN = 1_000_000_000_000

# Who makes each change: "staff" (FINANCE_MANAGE, `disclosure_publish` and
# `disclosure_submit`) or "engine" (the approvals engine's callbacks).
TRANSITIONS: dict[tuple[DisclosureStatus, DisclosureStatus], str] = {
    (DisclosureStatus.DRAFT, DisclosureStatus.PUBLISHED): "staff",
    (DisclosureStatus.DRAFT, DisclosureStatus.IN_APPROVAL): "staff",
    (DisclosureStatus.IN_APPROVAL, DisclosureStatus.PUBLISHED): "engine",
    (DisclosureStatus.IN_APPROVAL, DisclosureStatus.DRAFT): "engine",
}
OPEN = (RequestStatus.PENDING, RequestStatus.RETURNED)


def content_hash(*, title: str, body: str, figures: dict[str, int]) -> str:
    """hex SHA-256 of the canonical JSON of title, body and figures (keys sorted, UTF-8)."""
    data = json.dumps(
        {"title": title, "body": body, "figures": figures},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return hashlib.sha256(data).hexdigest()


def ledger_payload(disclosure: Disclosure) -> dict[str, object]:
    """The "disclosure_published" leaf payload of `disclosure` (no personal data, no floats).

    Shared with `ledger_audit`, which rebuilds it from the stored row.
    """
    branch = disclosure.branch
    previous = disclosure.corrects
    return {
        "series": str(disclosure.series),
        "version": disclosure.version,
        "disclosure_kind": disclosure.kind,
        "project": disclosure.project_id,
        "branch": branch.division_code or branch.pk,
        "period_start": disclosure.period_start.isoformat(),
        "period_end": disclosure.period_end.isoformat(),
        "content_sha256": content_hash(
            title=disclosure.title, body=disclosure.body, figures=disclosure.figures
        ),
        "corrects_version": previous.version if previous is not None else None,
    }


def _clean_text(errors: dict[str, str], field: str, value: object, limit: int, label: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors[field] = _("Fill in the %(field)s.") % {"field": label}
    elif len(text) > limit:
        errors[field] = _("The %(field)s is too long (at most %(n)s characters).") % {
            "field": label,
            "n": limit,
        }
    return text


def _clean_figures(errors: dict[str, str], figures: object) -> dict[str, int]:
    if not isinstance(figures, dict):
        errors["figures"] = _("The figures must be a list of labelled amounts in whole fen.")
        return {}
    if len(figures) > FIGURES_MAX:
        errors["figures"] = _("Too many figures (at most %(n)s).") % {"n": FIGURES_MAX}
        return {}
    cleaned: dict[str, int] = {}
    for label, value in figures.items():
        if not isinstance(label, str) or not label.strip() or len(label) > LABEL_MAX:
            errors["figures"] = _("Every figure needs a label of at most %(n)s characters.") % {
                "n": LABEL_MAX
            }
            return {}
        # `type(...) is int`: a bool, float or Decimal means yuan were converted somewhere.
        if type(value) is not int or not -MAX_FIGURE_FEN <= value <= MAX_FIGURE_FEN:
            errors["figures"] = _("The figure “%(label)s” must be a whole number of fen.") % {"label": label}
            return {}
        cleaned[label.strip()] = value
    return cleaned


def _validate(
    *,
    kind: object,
    period_start: object,
    period_end: object,
    title: object,
    body: object,
    figures: object,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Choose a kind of disclosure.")
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        errors["period_end"] = _("Give the start and end of the period.")
    elif period_end < period_start:
        errors["period_end"] = _("The period cannot end before it starts.")
    cleaned: dict[str, Any] = {
        "kind": kind,
        "period_start": period_start,
        "period_end": period_end,
        "title": _clean_text(errors, "title", title, TITLE_MAX, _("title")),
        "body": _clean_text(errors, "body", body, BODY_MAX, _("text")),
        "figures": _clean_figures(errors, figures),
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_project(branch: Branch, project: FundraisingProject | None) -> None:
    if project is not None and not project.branch.path.startswith(branch.path):
        raise ValidationError(
            {"project": _("The project does not belong to this branch or a branch under it.")}
        )


def _locked(disclosure: Disclosure) -> Disclosure:
    return Disclosure.objects.select_for_update().select_related("branch").get(pk=disclosure.pk)


def open_request(disclosure: Disclosure) -> ApprovalRequest | None:
    """The disclosure's approval request still pending or returned, if any."""
    return (
        ApprovalRequest.objects.filter(process_type=PROCESS_TYPE, object_id=disclosure.pk, status__in=OPEN)
        .order_by("-pk")
        .first()
    )


def _lock_with_request(disclosure: Disclosure) -> tuple[Disclosure, ApprovalRequest | None]:
    """Lock the open approval request (if any) and then the disclosure.

    In the engine's order (the request row first, see approvals.services), so a
    decision on the request and an edit of the disclosure queue up instead of
    deadlocking.
    """
    request = open_request(disclosure)
    if request is not None:
        request = ApprovalRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    locked = _locked(disclosure)
    if request is None and locked.status == DisclosureStatus.IN_APPROVAL:
        # Submitted between the two reads: the submit has committed by now.
        request = open_request(locked)
    return locked, request


def is_editable(disclosure: Disclosure, request: ApprovalRequest | None) -> bool:
    """A draft, or one in approval that the approver returned for revision."""
    if disclosure.status == DisclosureStatus.DRAFT:
        return True
    return (
        disclosure.status == DisclosureStatus.IN_APPROVAL
        and request is not None
        and request.status == RequestStatus.RETURNED
    )


def _refuse_edit(disclosure: Disclosure) -> ValidationError:
    if disclosure.status == DisclosureStatus.IN_APPROVAL:
        return ValidationError(
            _("This disclosure is waiting for approval; it can be edited once it is returned or withdrawn.")
        )
    return ValidationError(_("A published disclosure cannot be edited; publish a correction instead."))


def disclosure_draft(
    *,
    actor: User,
    branch: Branch,
    project: FundraisingProject | None = None,
    kind: str,
    period_start: date,
    period_end: date,
    title: str,
    body: str,
    figures: dict[str, int],
) -> Disclosure:
    """Create a draft disclosure (version 1 of a new series)."""
    require_perm(actor, PERM, branch)
    cleaned = _validate(
        kind=kind, period_start=period_start, period_end=period_end, title=title, body=body, figures=figures
    )
    _check_project(branch, project)
    with transaction.atomic():
        disclosure = Disclosure.objects.create(branch=branch, project=project, created_by=actor, **cleaned)
        audit_record(
            actor=actor,
            action="disclosure.draft",
            obj=disclosure,
            branch=branch,
            after={"kind": disclosure.kind, "series": str(disclosure.series), "version": 1},
        )
    return disclosure


def disclosure_update_draft(
    *,
    actor: User,
    disclosure: Disclosure,
    kind: str | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    title: str | None = None,
    body: str | None = None,
    figures: dict[str, int] | None = None,
) -> Disclosure:
    """Change a draft (or one returned for revision); fields left as None keep their value.

    Refused once published, or while waiting for a decision.
    """
    require_perm(actor, PERM, disclosure.branch)
    with transaction.atomic():
        locked, request = _lock_with_request(disclosure)
        if not is_editable(locked, request):
            raise _refuse_edit(locked)
        if locked.corrects_id is not None and kind is not None and kind != locked.kind:
            raise ValidationError({"kind": _("A correction keeps the kind of the disclosure it corrects.")})
        cleaned = _validate(
            kind=locked.kind if kind is None else kind,
            period_start=locked.period_start if period_start is None else period_start,
            period_end=locked.period_end if period_end is None else period_end,
            title=locked.title if title is None else title,
            body=locked.body if body is None else body,
            figures=locked.figures if figures is None else figures,
        )
        changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, cleaned[name])
        if changed:
            locked.save(update_fields=changed)
            audit_record(
                actor=actor,
                action="disclosure.update_draft",
                obj=locked,
                branch=locked.branch,
                after={"changed": sorted(changed)},
            )
    return locked


def _check_still_current(locked: Disclosure) -> None:
    """A correction must replace the newest published version of its series."""
    previous = locked.corrects
    if previous is None:
        return
    newest = (
        Disclosure.objects.filter(series=locked.series, status=DisclosureStatus.PUBLISHED)
        .order_by("-version")
        .first()
    )
    if newest is None or newest.pk != previous.pk:
        raise ValidationError(_("A newer version was published meanwhile; start the correction again."))


def _publish(locked: Disclosure, *, actor: User, now: datetime) -> Disclosure:
    """Freeze a locked draft or approved disclosure, log its content hash, audit it.

    The caller holds the row lock and has checked who may publish.
    """
    _check_still_current(locked)
    digest = content_hash(title=locked.title, body=locked.body, figures=locked.figures)
    entry = ledger_append(kind="disclosure_published", payload=ledger_payload(locked), occurred_at=now)
    locked.status = DisclosureStatus.PUBLISHED
    locked.published_by = actor
    locked.published_at = now
    locked.ledger_index = entry.index
    locked.save(update_fields=["status", "published_by", "published_at", "ledger_index"])
    audit_record(
        actor=actor,
        action="disclosure.publish",
        obj=locked,
        branch=locked.branch,
        after={
            "series": str(locked.series),
            "version": locked.version,
            "ledger_index": entry.index,
            "content_sha256": digest,
        },
    )
    return locked


def disclosure_publish(*, actor: User, disclosure: Disclosure) -> Disclosure:
    """Publish a draft without the approval step: freeze it, log its content hash, audit it.

    The low-level step behind the approval (used by the demo data and tests);
    staff pages and the API go through `disclosure_submit`.
    """
    require_perm(actor, PERM, disclosure.branch)
    with transaction.atomic():
        locked = _locked(disclosure)
        if locked.status == DisclosureStatus.IN_APPROVAL:
            raise ValidationError(
                _("This disclosure is waiting for approval; it is published when approved.")
            )
        if (DisclosureStatus(locked.status), DisclosureStatus.PUBLISHED) not in TRANSITIONS:
            raise ValidationError(_("This disclosure is already published."))
        return _publish(locked, actor=actor, now=timezone.now())


def disclosure_correct(
    *,
    actor: User,
    published: Disclosure,
    title: str,
    body: str,
    figures: dict[str, int],
    correction_note: str,
) -> Disclosure:
    """Start a correction: a new draft version of `published`'s series, to be published in turn."""
    require_perm(actor, PERM, published.branch)
    errors: dict[str, str] = {}
    note = _clean_text(errors, "correction_note", correction_note, NOTE_MAX, _("correction note"))
    try:
        cleaned = _validate(
            kind=published.kind,
            period_start=published.period_start,
            period_end=published.period_end,
            title=title,
            body=body,
            figures=figures,
        )
    except ValidationError as error:
        raise ValidationError({**error.message_dict, **{k: [v] for k, v in errors.items()}}) from None
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        base = _locked(published)
        if base.status != DisclosureStatus.PUBLISHED:
            raise ValidationError(_("Only a published disclosure can be corrected; edit the draft instead."))
        versions = Disclosure.objects.filter(series=base.series).order_by("-version")
        newest = versions.filter(status=DisclosureStatus.PUBLISHED).first()
        if newest is None or newest.pk != base.pk:
            raise ValidationError(_("Correct the current version of this disclosure, not an older one."))
        if versions.filter(status__in=[DisclosureStatus.DRAFT, DisclosureStatus.IN_APPROVAL]).exists():
            raise ValidationError(_("A correction of this disclosure is already being drafted."))
        top = versions.first()
        correction = Disclosure.objects.create(
            branch=base.branch,
            project=base.project,
            series=base.series,
            version=(top.version if top is not None else base.version) + 1,
            corrects=base,
            correction_note=note,
            created_by=actor,
            **cleaned,
        )
        audit_record(
            actor=actor,
            action="disclosure.correct",
            obj=correction,
            branch=base.branch,
            after={"series": str(base.series), "version": correction.version, "corrects": base.version},
        )
    return correction


# --- approval -------------------------------------------------------------------------


def disclosure_submit(
    *, actor: User, disclosure: Disclosure, meta: RequestMeta | None = None
) -> ApprovalRequest:
    """Send a draft (or a returned one, after editing) for approval; it is published when approved.

    Returns the engine's request. The drafter may not approve it (see `_approver`).
    """
    require_perm(actor, PERM, disclosure.branch)
    with transaction.atomic():
        locked, request = _lock_with_request(disclosure)
        if locked.status == DisclosureStatus.IN_APPROVAL and request is not None:
            if request.status != RequestStatus.RETURNED:
                raise ValidationError(_("This disclosure is already waiting for approval."))
            _check_still_current(locked)
            # The engine checks that `actor` is the requester, and starts a new round.
            request_resubmit(actor=actor, request=request, meta=meta)
            action = "disclosure.resubmit"
        elif locked.status == DisclosureStatus.DRAFT:
            _check_still_current(locked)
            locked.status = DisclosureStatus.IN_APPROVAL
            locked.save(update_fields=["status"])
            request = request_submit(actor=actor, process_type=PROCESS_TYPE, obj=locked, meta=meta)
            action = "disclosure.submit"
        else:
            raise ValidationError(_("This disclosure is already published."))
        audit_record(
            actor=actor,
            action=action,
            obj=locked,
            branch=locked.branch,
            after={"series": str(locked.series), "version": locked.version, "approval_request": request.pk},
            meta=meta,
        )
    request.refresh_from_db()
    return request


def _approver(locked: Disclosure, request: ApprovalRequest) -> User:
    """Who approved the last step; refused if the drafter took part in this round.

    The engine already refuses the requester; a drafter who let a colleague
    submit is refused here, which undoes the engine's decision.
    """
    decisions = list(
        Decision.objects.filter(request=request, round=request.round, outcome=Outcome.APPROVE)
        .select_related("decided_by")
        .order_by("decided_at", "pk")
    )
    involved = {pk for d in decisions for pk in (d.decided_by_id, d.on_behalf_of_id) if pk is not None}
    if locked.created_by_id in involved:
        raise PermissionDenied(_("The drafter of a disclosure cannot approve it."))
    if not decisions:
        raise ValidationError(_("This disclosure has no approval decision."))
    return decisions[-1].decided_by


def on_approved(disclosure: Disclosure, request: ApprovalRequest) -> None:
    """The engine approved: publish, inside the engine's transaction."""
    locked = _locked(disclosure)
    if locked.status != DisclosureStatus.IN_APPROVAL:
        raise ValidationError(_("This disclosure is not waiting for approval."))
    _publish(locked, actor=_approver(locked, request), now=request.updated_at or timezone.now())


def _back_to_draft(action: str) -> registry.Callback:
    def callback(disclosure: Disclosure, request: ApprovalRequest) -> None:
        locked = _locked(disclosure)
        if locked.status != DisclosureStatus.IN_APPROVAL:
            raise ValidationError(_("This disclosure is not waiting for approval."))
        locked.status = DisclosureStatus.DRAFT
        locked.save(update_fields=["status"])
        audit_record(
            actor=None,
            actor_label="system:approvals",
            action=action,
            obj=locked,
            branch=locked.branch,
            after={"version": locked.version, "approval_request": request.pk, "status": locked.status},
        )

    return callback


on_rejected = _back_to_draft("disclosure.rejected")
on_withdrawn = _back_to_draft("disclosure.withdrawn")


def register_process_type() -> None:
    """Called from DisclosureConfig.ready(); the default flow is seeded by migration 0003."""
    registry.register(
        registry.ProcessType(
            key=PROCESS_TYPE,
            label=gettext_lazy("Disclosure"),
            model=Disclosure,
            branch_of=lambda d: d.branch,
            amount_of=lambda d: None,
            title_of=lambda d: d.title if d.version == 1 else f"{d.title} (v{d.version})",
            on_approved=on_approved,
            on_rejected=on_rejected,
            on_withdrawn=on_withdrawn,
            url_of=lambda d: reverse("disclosure:staff_detail", kwargs={"pk": d.pk}),
        )
    )
