"""The staff disclosures router (/api/v1/staff/disclosures): list, draft, edit, submit, correct.

The same selectors and services as the pages, so the same rules: a disclosure
out of the caller's reach (FINANCE_VIEW scope, or its approval request) is a
404; every write needs FINANCE_MANAGE at the disclosure's branch (403, nothing
changed). Figures are `{label: whole fen}`: a float, a string or a bool is a 422.
Approving is the approvals API's (/api/v1/approvals): the disclosure is
published when its request is approved.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import date, datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import StrictInt

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import Branch, User
from rendao.core.scope import branches_for, has_perm_anywhere, scope_filter
from rendao.disclosure import selectors_staff, services
from rendao.disclosure.drafting import draft_from_data
from rendao.disclosure.models import Disclosure, DisclosureStatus, Kind
from rendao.funds.models import FundraisingProject

router = Router(tags=["staff disclosures"])

FIGURES_DESCRIPTION = "{label: amount in whole fen (1 yuan = 100 fen)}; integers only."


class DisclosureOut(Schema):
    id: int
    series: UUID = Field(description="Shared by every version of one disclosure.")
    version: int
    status: DisclosureStatus
    kind: Kind
    branch_id: int
    project_id: int | None
    period_start: date
    period_end: date
    title: str
    body: str
    figures: dict[str, int] = Field(description=FIGURES_DESCRIPTION)
    corrects_id: int | None = Field(description="The published version this one corrects.")
    correction_note: str
    created_at: datetime
    published_at: datetime | None
    ledger_index: int | None = Field(description="Its disclosure_published leaf in the transparency log.")
    approval_request_id: int | None = Field(description="The open approval request, if any.")

    @staticmethod
    def resolve_approval_request_id(obj: Disclosure) -> int | None:
        request = services.open_request(obj)
        return request.pk if request is not None else None


class DisclosureFilter(Schema):
    kind: Kind | None = None
    status: DisclosureStatus | None = None
    branch: int | None = Field(None, description="A branch id: that branch and its subtree.")


class DraftIn(Schema):
    branch_id: StrictInt = Field(description="A branch where you hold finance.manage.")
    project_id: StrictInt | None = Field(None, description="One of its fundraising projects, or none.")
    kind: Kind
    period_start: date
    period_end: date
    title: str = Field(max_length=services.TITLE_MAX)
    body: str = Field(max_length=services.BODY_MAX)
    figures: dict[str, StrictInt] = Field(default_factory=dict, description=FIGURES_DESCRIPTION)


class FromDataIn(Schema):
    branch_id: StrictInt = Field(description="A branch where you hold finance.manage.")
    project_id: StrictInt | None = Field(
        None, description="The project (project-level kinds); the annual report and audit use the branch."
    )
    kind: Kind
    period_start: date
    period_end: date


class DraftPatch(Schema):
    kind: Kind | None = None
    period_start: date | None = None
    period_end: date | None = None
    title: str | None = Field(None, max_length=services.TITLE_MAX)
    body: str | None = Field(None, max_length=services.BODY_MAX)
    figures: dict[str, StrictInt] | None = Field(None, description=FIGURES_DESCRIPTION)


class CorrectionIn(Schema):
    title: str = Field(max_length=services.TITLE_MAX)
    body: str = Field(max_length=services.BODY_MAX)
    figures: dict[str, StrictInt] = Field(default_factory=dict, description=FIGURES_DESCRIPTION)
    correction_note: str = Field(max_length=services.NOTE_MAX, description="What was wrong and what changed.")


class SubmitOut(Schema):
    disclosure: DisclosureOut
    approval_request_id: int


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _may_write(user: User) -> None:
    if not has_perm_anywhere(user, services.PERM):
        raise PermissionDenied(_("Your roles do not let you draft disclosures."))


def _subject(user: User, branch_id: int, project_id: int | None) -> tuple[Branch, FundraisingProject | None]:
    branch = branches_for(user, services.PERM).filter(pk=branch_id).first()
    if branch is None:
        raise Http404(_("Not found."))
    project = None
    if project_id is not None:
        project = (
            scope_filter(FundraisingProject.objects.all(), user=user, perm=services.PERM)
            .filter(pk=project_id)
            .first()
        )
        if project is None:
            raise ValidationError(
                {"project_id": _("Choose a project of a branch you manage the finances of.")}
            )
    return branch, project


@router.get(
    "", response={200: list[DisclosureOut], **errors(401, 403, 422)}, summary="Disclosures in my scope"
)
@paginate(Pagination)
def disclosure_list(request: HttpRequest, filters: Query[DisclosureFilter]) -> QuerySet[Disclosure]:
    """Every version (drafts, in approval, published) where I hold finance.view, newest first."""
    user = _caller(request)
    if not has_perm_anywhere(user, selectors_staff.READ_PERM):
        raise PermissionDenied(_("Your roles do not let you see disclosures."))
    branch = None
    if filters.branch is not None:
        branch = Branch.objects.filter(pk=filters.branch).first()
        if branch is None:
            return Disclosure.objects.none()
    return selectors_staff.disclosures_for_staff(
        user=user, kind=filters.kind or "", status=filters.status or "", branch=branch
    )


@router.get(
    "/{int:disclosure_id}", response={200: DisclosureOut, **errors(401, 403, 404)}, summary="One disclosure"
)
def disclosure_detail(request: HttpRequest, disclosure_id: int) -> Disclosure:
    return selectors_staff.disclosure_get_for_staff(user=_caller(request), pk=disclosure_id)


@router.post("", response={201: DisclosureOut, **errors(401, 403, 404, 422)}, summary="Draft a disclosure")
def disclosure_create(request: HttpRequest, body: DraftIn) -> Status[Disclosure]:
    """201: a new draft (version 1); 422: bad input; 404: a branch outside my finance.manage scope."""
    user = _caller(request)
    _may_write(user)
    branch, project = _subject(user, body.branch_id, body.project_id)
    d = services.disclosure_draft(
        actor=user,
        branch=branch,
        project=project,
        kind=body.kind,
        period_start=body.period_start,
        period_end=body.period_end,
        title=body.title,
        body=body.body,
        figures=body.figures,
    )
    return Status(201, d)


@router.post(
    "/from-data",
    response={201: DisclosureOut, **errors(401, 403, 404, 422)},
    summary="Draft a disclosure from the data (figures and text filled in)",
)
def disclosure_from_data(request: HttpRequest, body: FromDataIn) -> Status[Disclosure]:
    """The figures the public pages show for the project (or the branch) and the period,
    with a text to edit before submitting it."""
    user = _caller(request)
    _may_write(user)
    branch, project = _subject(user, body.branch_id, body.project_id)
    if body.period_end < body.period_start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})
    d = draft_from_data(user, branch, project, body.kind, body.period_start, body.period_end)
    return Status(201, d)


@router.patch(
    "/{int:disclosure_id}",
    response={200: DisclosureOut, **errors(401, 403, 404, 422)},
    summary="Edit a draft",
)
def disclosure_update(request: HttpRequest, disclosure_id: int, body: DraftPatch) -> Disclosure:
    """Fields left out keep their value; 422 for a disclosure in approval or published."""
    user = _caller(request)
    d = selectors_staff.disclosure_get_for_staff(user=user, pk=disclosure_id)
    return services.disclosure_update_draft(actor=user, disclosure=d, **body.dict(exclude_unset=True))


@router.post(
    "/{int:disclosure_id}/submit",
    response={200: SubmitOut, **errors(401, 403, 404, 422)},
    summary="Submit a draft for approval",
)
def disclosure_submit(request: HttpRequest, disclosure_id: int) -> dict[str, object]:
    """The disclosure is published when the approvals engine approves it (never by its
    drafter or requester); a rejection or withdrawal makes it a draft again."""
    user = _caller(request)
    d = selectors_staff.disclosure_get_for_staff(user=user, pk=disclosure_id)
    approval = services.disclosure_submit(actor=user, disclosure=d, meta=RequestMeta.from_request(request))
    d.refresh_from_db()
    return {"disclosure": d, "approval_request_id": approval.pk}


@router.post(
    "/{int:disclosure_id}/corrections",
    response={201: DisclosureOut, **errors(401, 403, 404, 422)},
    summary="Correct a published disclosure (a new draft version)",
)
def disclosure_correct(request: HttpRequest, disclosure_id: int, body: CorrectionIn) -> Status[Disclosure]:
    """201: the correction, a draft of the next version, to submit for approval in turn."""
    user = _caller(request)
    d = selectors_staff.disclosure_get_for_staff(user=user, pk=disclosure_id)
    correction = services.disclosure_correct(
        actor=user,
        published=d,
        title=body.title,
        body=body.body,
        figures=body.figures,
        correction_note=body.correction_note,
    )
    return Status(201, correction)
