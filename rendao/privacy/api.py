"""The caller's own consents and data rights: /api/v1/me/… (session or token).

Every operation acts on the caller's own data only; another person's request
id is a 404. Writes call the same services as the pages.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from rendao.core.api import Pagination, errors
from rendao.core.audit import RequestMeta
from rendao.core.models import User
from rendao.privacy import selectors, services
from rendao.privacy.models import Consent, ConsentText, DataRequest
from rendao.privacy.purposes import Purpose

router = Router(tags=["privacy"])


class ConsentTextOut(Schema):
    """The exact words shown when consent is asked; a consent points at one."""

    id: int
    purpose: Purpose
    version: int
    language: str
    title: str
    body: str
    published_at: datetime


class ConsentOut(Schema):
    id: int
    purpose: Purpose
    text_id: int = Field(description="The text the consent was given to.")
    text_version: int
    granted_at: datetime
    withdrawn_at: datetime | None = Field(description="Null while the consent is live.")
    by_guardian: bool = Field(description="Given by a parent or guardian for a child under 14.")
    relation: str = Field(description="The guardian's relation to the child, when by a guardian.")

    @staticmethod
    def resolve_text_version(obj: Consent) -> int:
        return obj.text.version

    @staticmethod
    def resolve_by_guardian(obj: Consent) -> bool:
        return obj.guardian_id is not None


class PurposeOut(Schema):
    purpose: Purpose
    label: str
    sensitive: bool = Field(description="Sensitive personal information: needs a separate consent.")
    third_party: bool = Field(description="Data goes to another organisation: needs a separate consent.")
    consent: ConsentOut | None = Field(description="The caller's live consent, if any.")
    text: ConsentTextOut | None = Field(description="The current text to show before consenting.")


class LanguageFilter(Schema):
    language: str | None = Field(
        None, description="zh-hans or en; by default the request's language.", max_length=10
    )


class ConsentGrantIn(Schema):
    purpose: Purpose
    text_id: int = Field(description="The id of the current text that was shown to the caller.")


class DecisionOut(Schema):
    from_status: DataRequest.Status
    to_status: DataRequest.Status
    reason: str
    created_at: datetime


class DataRequestIn(Schema):
    kind: DataRequest.Kind
    field: str = Field("", description="Corrections: display_name, email, real_name or id_number.")
    proposed_value: str = Field("", max_length=200, description="Corrections: the correct value.")
    note: str = Field("", max_length=services.NOTE_MAX_LENGTH)


class DataRequestOut(Schema):
    id: int
    kind: DataRequest.Kind
    status: DataRequest.Status
    field: str
    proposed_value: str
    note: str
    created_at: datetime
    closed_at: datetime | None
    decisions: list[DecisionOut]

    @staticmethod
    def resolve_decisions(obj: DataRequest) -> list[Any]:
        return list(obj.decisions.all())


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get(
    "/consents/purposes",
    response={200: list[PurposeOut], **errors(401, 422)},
    summary="Every purpose, with the caller's live consent and the text to show",
)
def consent_purposes(request: HttpRequest, filters: Query[LanguageFilter]) -> list[dict[str, Any]]:
    rows = selectors.consent_overview(user=_caller(request), language=filters.language)
    return [
        {
            "purpose": row.purpose,
            "label": str(row.purpose.label),
            "sensitive": row.sensitive,
            "third_party": row.third_party,
            "consent": row.live,
            "text": row.text,
        }
        for row in rows
    ]


@router.get(
    "/consents",
    response={200: list[ConsentOut], **errors(401, 422)},
    summary="The caller's consents, live and withdrawn, newest first",
)
@paginate(Pagination)
def consent_list(request: HttpRequest) -> QuerySet[Consent]:
    return selectors.consent_history_for(user=_caller(request))


@router.post(
    "/consents",
    response={201: ConsentOut, **errors(401, 403, 422)},
    summary="Give consent for a purpose, to the text that was shown",
)
def consent_grant(request: HttpRequest, payload: ConsentGrantIn) -> Status[Consent]:
    """`text_id` must be the current version of the purpose's text (in any language)."""
    text = ConsentText.objects.filter(pk=payload.text_id, purpose=payload.purpose).first()
    if text is None:
        raise ValidationError({"text_id": _("This is not a text of this purpose.")})
    consent = services.consent_grant(
        subject=_caller(request), purpose=payload.purpose, text=text, meta=RequestMeta.from_request(request)
    )
    return Status(201, consent)


@router.post(
    "/consents/{purpose}/withdraw",
    response={200: ConsentOut, **errors(401, 403, 422)},
    summary="Withdraw the caller's consent for a purpose",
)
def consent_withdraw(request: HttpRequest, purpose: Purpose) -> Consent:
    """Takes effect at once: the next check for this purpose is refused."""
    return services.consent_withdraw(
        subject=_caller(request), purpose=purpose, meta=RequestMeta.from_request(request)
    )


@router.get(
    "/data",
    response={200: dict[str, Any], **errors(401)},
    summary="Everything we hold about the caller (PIPL Art 45)",
)
def data_export(request: HttpRequest) -> dict[str, Any]:
    """Personal values in clear: the caller's own copy. Each export is audited.

    Sections: account, identity, consents, consents_given_as_guardian,
    memberships, data_requests, api_tokens, messages, activity — and those later
    apps add.
    """
    return services.data_export(subject=_caller(request), meta=RequestMeta.from_request(request))


@router.get(
    "/data-requests",
    response={200: list[DataRequestOut], **errors(401, 422)},
    summary="The caller's correction and deletion requests, newest first",
)
@paginate(Pagination)
def data_request_list(request: HttpRequest) -> QuerySet[DataRequest]:
    return selectors.data_requests_for_subject(user=_caller(request)).prefetch_related("decisions")


@router.post(
    "/data-requests",
    response={201: DataRequestOut, **errors(401, 422)},
    summary="Ask for a correction or for the deletion of the caller's data",
)
def data_request_create(request: HttpRequest, payload: DataRequestIn) -> Status[DataRequest]:
    created = services.data_request_submit(
        subject=_caller(request),
        kind=payload.kind,
        field=payload.field,
        proposed_value=payload.proposed_value,
        note=payload.note,
        meta=RequestMeta.from_request(request),
    )
    return Status(201, created)


@router.get(
    "/data-requests/{request_id}",
    response={200: DataRequestOut, **errors(401, 404, 422)},
    summary="One of the caller's requests, with its decisions",
)
def data_request_detail(request: HttpRequest, request_id: int) -> DataRequest:
    return selectors.data_request_get_for_subject(user=_caller(request), pk=request_id)
