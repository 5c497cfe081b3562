"""The staff disbursements router (/api/v1/staff/disbursements): list, detail, request, payments.

The same selectors and services as the pages, so the same rules: a
disbursement out of the caller's FINANCE_VIEW scope is a 404; a request or a
payment needs FINANCE_MANAGE at the fund's branch (403 otherwise, nothing
changed); a payment is idempotent by its bank reference: the same reference,
disbursement and amount answer the payment already recorded (200), a new one
is 201, the reference with anything else is 422.
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
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere, scope_filter
from rendao.disbursements import selectors, services
from rendao.disbursements.models import (
    Category,
    Disbursement,
    DisbursementEvent,
    Payment,
    Signoff,
    SignoffKind,
)
from rendao.disbursements.models import Status as DisbursementStatus
from rendao.disbursements.upload_purposes import DOCUMENT
from rendao.funds.models import FundraisingProject
from rendao.uploads.models import Attachment

router = Router(tags=["staff disbursements"])


class DisbursementOut(Schema):
    id: int
    number: str = Field(description="ZB-<year>-<serial>.")
    status: DisbursementStatus
    branch_id: int
    fund_code: str
    project_id: int | None
    payee_id: int
    payee_name: str
    related_party: bool = Field(
        description="The payee was flagged as a related party (Art 40) when requested."
    )
    amount_fen: int = Field(description="Whole fen (1 yuan = 100 fen).")
    paid_fen: int
    purpose: str
    category: Category
    requested_at: datetime
    approval_request_id: int | None
    signed_off_at: datetime | None

    @staticmethod
    def resolve_fund_code(obj: Disbursement) -> str:
        return obj.fund.code

    @staticmethod
    def resolve_payee_name(obj: Disbursement) -> str:
        return obj.payee.name


class PaymentOut(Schema):
    bank_reference: str
    paid_on: date
    amount_fen: int
    journal_entry_id: int
    ledger_index: int
    recorded_at: datetime


class EventOut(Schema):
    from_status: str
    to_status: DisbursementStatus
    note: str
    ledger_index: int | None
    at: datetime


class SignoffOut(Schema):
    kind: SignoffKind
    received_fen: int | None
    note: str
    by_staff_upload: bool
    ledger_index: int
    at: datetime


class DisbursementDetailOut(DisbursementOut):
    payee_bank_account: str = Field(description="The payee institution's account (an organisation's).")
    payments: list[PaymentOut]
    events: list[EventOut]
    signoffs: list[SignoffOut]

    @staticmethod
    def resolve_payments(obj: Disbursement) -> list[Payment]:
        return list(obj.payments.all())

    @staticmethod
    def resolve_events(obj: Disbursement) -> list[DisbursementEvent]:
        return list(obj.events.all())

    @staticmethod
    def resolve_signoffs(obj: Disbursement) -> list[Signoff]:
        return list(obj.signoffs.all())


class DisbursementFilter(Schema):
    status: DisbursementStatus | None = None
    project: int | None = Field(None, description="A project id.")
    branch: int | None = Field(None, description="A branch id: that branch and its subtree.")


class DisbursementIn(Schema):
    fund_id: StrictInt = Field(
        description="A project's restricted fund or a general fund in your finance scope."
    )
    payee_id: StrictInt = Field(description="An active recipient institution in your finance scope.")
    amount_fen: StrictInt = Field(description="Whole fen, above zero, at most what the fund has available.")
    purpose: str = Field(max_length=300)
    category: Category
    payee_bank_account: str = Field(max_length=100)
    document_ids: list[UUID] = Field(
        default_factory=list,
        max_length=10,
        description='Attachments you uploaded with purpose "disbursement_document".',
    )


class PaymentIn(Schema):
    bank_reference: str = Field(
        max_length=64, description="The bank's reference of the transfer; the idempotency key."
    )
    paid_on: date
    amount_fen: StrictInt = Field(description="Whole fen, above zero, at most what is still to be paid.")


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get(
    "", response={200: list[DisbursementOut], **errors(401, 403, 422)}, summary="Disbursements in my scope"
)
@paginate(Pagination)
def disbursement_list(request: HttpRequest, filters: Query[DisbursementFilter]) -> QuerySet[Disbursement]:
    """Disbursements of the branches where I hold finance.view, newest first."""
    user = _caller(request)
    if not has_perm_anywhere(user, Perm.FINANCE_VIEW):
        raise PermissionDenied(_("Your roles do not let you see disbursements."))
    project = branch = None
    if filters.project is not None:
        project = (
            scope_filter(FundraisingProject.objects.all(), user=user, perm=Perm.FINANCE_VIEW)
            .filter(pk=filters.project)
            .first()
        )
        if project is None:
            return Disbursement.objects.none()
    if filters.branch is not None:
        branch = Branch.objects.filter(pk=filters.branch).first()
        if branch is None:
            return Disbursement.objects.none()
    return selectors.disbursements_for_staff(
        user=user, status=filters.status or "", project=project, branch=branch
    )


@router.get(
    "/{number}", response={200: DisbursementDetailOut, **errors(401, 403, 404)}, summary="One disbursement"
)
def disbursement_detail(request: HttpRequest, number: str) -> Disbursement:
    """With its payments, timeline and the payee's sign-offs."""
    return selectors.disbursement_get_for_staff(user=_caller(request), number=number)


@router.post(
    "",
    response={201: DisbursementDetailOut, **errors(401, 403, 404, 422)},
    summary="Request a disbursement (reserves the amount, enters approval)",
)
def disbursement_create(request: HttpRequest, body: DisbursementIn) -> Status[Disbursement]:
    """201: requested and in approval; 422: bad input or more than the fund has available;
    404: a fund outside the branches where I manage finance; 403: no finance.manage anywhere."""
    user = _caller(request)
    if not has_perm_anywhere(user, Perm.FINANCE_MANAGE):
        raise PermissionDenied(_("Your roles do not let you request disbursements."))
    fund = selectors.funds_for_request(user=user).filter(pk=body.fund_id).first()
    if fund is None:
        raise Http404(_("Not found."))
    payee = selectors.payees_for_request(user=user).filter(pk=body.payee_id).first()
    if payee is None:
        raise ValidationError(
            {"payee_id": _("Choose a payee institution of a branch you manage the finances of.")}
        )
    wanted = set(body.document_ids)
    documents = list(Attachment.objects.filter(pk__in=wanted, owner=user, purpose=DOCUMENT))
    if len(documents) != len(wanted):
        raise ValidationError({"document_ids": _("A supporting document is not one you may attach.")})
    d = services.disbursement_request(
        actor=user,
        fund=fund,
        payee=payee,
        amount_fen=body.amount_fen,
        purpose=body.purpose,
        category=body.category,
        payee_bank_account=body.payee_bank_account,
        documents=documents,
        meta=RequestMeta.from_request(request),
    )
    return Status(201, selectors.disbursement_get_for_staff(user=user, number=d.number))


@router.post(
    "/{number}/payments",
    response={201: PaymentOut, 200: PaymentOut, **errors(401, 403, 404, 422)},
    summary="Record a bank transfer, idempotent by bank_reference",
)
def disbursement_payment(request: HttpRequest, number: str, body: PaymentIn) -> Status[Payment]:
    """201: recorded; 200: the same reference, disbursement and amount again; 422: bad
    input, more than is still to be paid, not approved, or a reference used otherwise."""
    user = _caller(request)
    d = selectors.disbursement_get_for_staff(user=user, number=number)
    known = Payment.objects.filter(bank_reference=body.bank_reference.strip()).exists()
    payment = services.payment_record(
        actor=user,
        disbursement=d,
        bank_reference=body.bank_reference,
        paid_on=body.paid_on,
        amount_fen=body.amount_fen,
        meta=RequestMeta.from_request(request),
    )
    return Status(200 if known else 201, payment)
