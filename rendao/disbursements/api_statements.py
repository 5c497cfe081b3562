"""The staff bank statements router: import a statement (multipart), list, read, resolve a difference.

The same services and selectors as the pages, so the same rules: a statement
out of the caller's FINANCE_VIEW scope is a 404; importing needs FINANCE_MANAGE
at the branch (403, nothing stored); a file that cannot be read is 422 naming the
line; the same file again answers the statement already stored (200), a new one
is 201.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import Branch, User
from rendao.disbursements import statements
from rendao.disbursements.models import DifferenceKind, Statement, StatementDifference, StatementLine
from rendao.disbursements.statement_formats import MAX_STATEMENT_BYTES
from rendao.uploads.handlers import skipped_as_too_large
from rendao.uploads.validation import too_large

router = Router(tags=["staff bank statements"])


class StatementOut(Schema):
    id: int
    branch_id: int
    filename: str
    sha256: str
    period_start: date
    period_end: date
    line_count: int = Field(description="Outgoing transfers on the statement (incoming ones are skipped).")
    matched_count: int = Field(description="Lines whose reference and amount agree with a recorded payment.")
    difference_count: int
    imported_at: datetime
    ledger_index: int | None = Field(
        description="The statement's reconciliation entry in the transparency log."
    )


class DifferenceOut(Schema):
    id: int
    kind: DifferenceKind
    line_no: int | None
    reference: str
    statement_fen: int | None
    recorded_fen: int | None
    disbursement: str | None = Field(description="The number of the disbursement of the payment concerned.")
    resolved_at: datetime | None
    resolution: str

    @staticmethod
    def resolve_line_no(obj: StatementDifference) -> int | None:
        return obj.line.line_no if obj.line is not None else None

    @staticmethod
    def resolve_disbursement(obj: StatementDifference) -> str | None:
        return obj.payment.disbursement.number if obj.payment is not None else None


class StatementDetailOut(StatementOut):
    differences: list[DifferenceOut]

    @staticmethod
    def resolve_differences(obj: Statement) -> list[StatementDifference]:
        return [d for items in statements.differences_by_kind(obj).values() for d in items]


class LineOut(Schema):
    line_no: int
    booked_on: date
    amount_fen: int
    reference: str
    counterparty: str
    disbursement: str | None

    @staticmethod
    def resolve_disbursement(obj: StatementLine) -> str | None:
        return obj.payment.disbursement.number if obj.payment is not None else None


class ResolveIn(Schema):
    resolution: str = Field(max_length=300, description="How the difference was settled.")


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get("", response={200: list[StatementOut], **errors(401, 422)}, summary="Bank statements in my scope")
@paginate(Pagination)
def statement_list(request: HttpRequest) -> QuerySet[Statement]:
    """Statements of the branches where I hold finance.view, newest first."""
    return statements.statements_for_viewer(user=_caller(request))


@router.post(
    "",
    response={201: StatementDetailOut, 200: StatementDetailOut, **errors(401, 403, 413, 422)},
    summary="Import a bank statement (CSV or XLSX) and match it with the payments",
)
def statement_upload(
    request: HttpRequest,
    branch_id: Form[int],
    period_start: Form[date | None] = None,
    period_end: Form[date | None] = None,
    file: File[UploadedFile | None] = None,
) -> Status[Statement]:
    """multipart/form-data with `branch_id`, `file` and optionally `period_start`, `period_end`.

    201: imported; 200: the same file was imported before (nothing changed); 422: a
    file that cannot be read (the message names the line), a line outside the period,
    an unknown branch; 403: no finance.manage at the branch."""
    user = _caller(request)
    if file is None:
        if skipped_as_too_large(request, "file"):
            raise too_large(settings.UPLOADS_MAX_BYTES)
        raise ValidationError({"file": _("No file was sent.")})
    if file.size is not None and file.size > MAX_STATEMENT_BYTES:
        raise ValidationError({"file": _("The file is larger than 10 MB.")})
    branch = Branch.objects.filter(pk=branch_id, is_active=True).first()
    if branch is None:
        raise ValidationError({"branch_id": _("Unknown branch.")})
    statement, created = statements.statement_import_outcome(
        actor=user,
        branch=branch,
        filename=file.name or "",
        content=file.read(),
        period_start=period_start,
        period_end=period_end,
        meta=RequestMeta.from_request(request),
    )
    return Status(201 if created else 200, statement)


@router.get(
    "/{statement_id}", response={200: StatementDetailOut, **errors(401, 404)}, summary="A bank statement"
)
def statement_detail(request: HttpRequest, statement_id: int) -> Statement:
    return statements.statement_get_for_viewer(user=_caller(request), pk=statement_id)


@router.get(
    "/{statement_id}/lines",
    response={200: list[LineOut], **errors(401, 404, 422)},
    summary="A bank statement's outgoing transfers",
)
@paginate(Pagination)
def statement_lines(request: HttpRequest, statement_id: int) -> QuerySet[StatementLine]:
    statement = statements.statement_get_for_viewer(user=_caller(request), pk=statement_id)
    return statements.statement_lines(statement)


@router.post(
    "/{statement_id}/differences/{difference_id}/resolve",
    response={200: DifferenceOut, **errors(401, 403, 404, 422)},
    summary="Record how a difference was resolved",
)
def difference_resolve(
    request: HttpRequest, statement_id: int, difference_id: int, body: ResolveIn
) -> StatementDifference:
    user = _caller(request)
    statement = statements.statement_get_for_viewer(user=user, pk=statement_id)
    difference = statements.difference_get_for_viewer(user=user, statement=statement, pk=difference_id)
    return statements.statement_difference_resolve(
        actor=user, difference=difference, resolution=body.resolution, meta=RequestMeta.from_request(request)
    )
