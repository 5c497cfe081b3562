"""Routers of recipient institutions: staff (list, detail, create) and the public needs list.

Staff operations read through the same selectors as the pages (RECIPIENTS_MANAGE
scope; out of scope is a 404) and write through the same services (403 without
the permission at the branch, 422 for bad input, nothing changed). The contact
mobile is answered masked. The public needs list holds no personal data.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import date, datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import StrictBool

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.masking import mask_mobile
from rendao.core.models import Branch, User
from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope
from rendao.recipients import selectors, services
from rendao.recipients.models import Institution, InstitutionKind, Need

staff_router = Router(tags=["recipient institutions"])
public_router = Router(tags=["needs"])


class InstitutionOut(Schema):
    id: int
    branch_id: int
    name: str
    kind: InstitutionKind
    credit_code: str
    address: str
    contact_name: str
    contact_mobile_masked: str = Field(description="The contact person's mobile, masked (138****5678).")
    related_party: bool = Field(description="Charity Law Art 40: related to the society's officers.")
    related_party_note: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_contact_mobile_masked(obj: Institution) -> str:
        return mask_mobile(obj.contact_mobile)


class InstitutionFilter(Schema):
    kind: InstitutionKind | None = None
    related_party: bool | None = None
    q: str = Field("", max_length=100, description="Part of the name.")


class InstitutionIn(Schema):
    branch_id: int
    name: str = Field(max_length=200)
    kind: InstitutionKind
    credit_code: str = Field(
        "", max_length=40, description="Unified social credit code (GB 32100), optional."
    )
    address: str = Field("", max_length=300)
    contact_name: str = Field("", max_length=100)
    contact_mobile: str = Field("", max_length=32, description="Mainland China mobile number, optional.")
    related_party: StrictBool = False
    related_party_note: str = Field("", max_length=300, description="Required when related_party is true.")


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@staff_router.get(
    "", response={200: list[InstitutionOut], **errors(401, 422)}, summary="Recipient institutions in my scope"
)
@paginate(Pagination)
def staff_institution_list(request: HttpRequest, filters: Query[InstitutionFilter]) -> QuerySet[Institution]:
    return selectors.institutions_for_staff(
        user=_caller(request),
        kind=filters.kind or "",
        related_party=filters.related_party,
        q=filters.q.strip(),
    )


@staff_router.get(
    "/{institution_id}",
    response={200: InstitutionOut, **errors(401, 404)},
    summary="One recipient institution",
)
def staff_institution_detail(request: HttpRequest, institution_id: int) -> Institution:
    return selectors.institution_get_for_staff(user=_caller(request), pk=institution_id)


@staff_router.post(
    "", response={201: InstitutionOut, **errors(401, 403, 404, 422)}, summary="Add a recipient institution"
)
def staff_institution_create(request: HttpRequest, body: InstitutionIn) -> Status[Institution]:
    """403 without recipients.manage at the branch; 404 for a branch out of sight; 422 for bad input."""
    user = _caller(request)
    branch = get_in_scope(
        Branch.objects.all(), user=user, perm=Perm.RECIPIENTS_MANAGE, field="", pk=body.branch_id
    )
    data = body.dict()
    data.pop("branch_id")
    institution = services.institution_create(
        actor=user, branch=branch, meta=RequestMeta.from_request(request), **data
    )
    return Status(201, institution)


class NeedOut(Schema):
    id: int
    institution: str = Field(description="The institution's name (organisations are public).")
    institution_kind: InstitutionKind
    item_name: str
    specification: str
    unit: str
    quantity: int
    quantity_received: int
    deadline: date
    purpose: str
    published_at: datetime

    @staticmethod
    def resolve_institution(obj: Need) -> str:
        return obj.institution.name

    @staticmethod
    def resolve_institution_kind(obj: Need) -> str:
        return obj.institution.kind


@public_router.get(
    "",
    auth=None,
    response={200: list[NeedOut], **errors(422)},
    summary="Open needs of recipient institutions",
)
@paginate(Pagination)
def needs_list(request: HttpRequest) -> QuerySet[Need]:
    """Open needs whose deadline has not passed, soonest first; no personal data."""
    return selectors.needs_public()
