"""POST /api/v1/donations/follow-by-receipt: the follow link of a receipt (no account).

The same service as the /follow/ page (rendao.disclosure.follow): malformed
input is 422, an unknown number and a wrong code are the same 404, too many
failures 429 with Retry-After, even for the right code.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from rendao.core.api import errors
from rendao.core.audit import RequestMeta
from rendao.disclosure.follow import (
    FAILURE_WINDOW,
    FollowKind,
    FollowRefused,
    FollowThrottled,
    donation_follow_by_receipt,
)

router = Router(tags=["donations"])


class FollowIn(Schema):
    receipt_number: str = Field(max_length=64, description="As printed, e.g. 350203-2026-000123.")
    code: str = Field(max_length=64, description="The verification code printed on the receipt.")


class FollowOut(Schema):
    kind: FollowKind = Field(
        description="donation: the donation's follow page; voided: the same, the receipt was voided "
        "after a refund; goods: a goods receipt, whose verification page is its follow page."
    )
    follow_url: str = Field(description="A private link: keep it to yourself.")
    voided: bool


@router.post(
    "/follow-by-receipt",
    auth=None,
    response={200: FollowOut, **errors(404, 422)},
    summary="Find the follow page of a donation by its receipt number and verification code",
)
def follow_by_receipt_api(
    request: HttpRequest, response: HttpResponse, body: FollowIn
) -> Status[FollowOut] | Status[dict[str, Any]]:
    try:
        result = donation_follow_by_receipt(
            number=body.receipt_number, code=body.code, meta=RequestMeta.from_request(request)
        )
    except FollowThrottled as exc:
        response["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
        return Status(429, {"error": {"code": "rate_limited", "message": exc.messages[0]}})
    except FollowRefused as exc:
        raise HttpError(404, exc.messages[0]) from None
    except ValidationError as exc:
        # The page's field is "number"; here it is named after the body's field.
        raise ValidationError(
            {("receipt_number" if key == "number" else key): value for key, value in exc.message_dict.items()}
        ) from None
    # A capability URL: keep it out of shared caches.
    response["Cache-Control"] = "private, no-store"
    out = FollowOut(kind=result.kind, follow_url=result.follow_url, voided=result.kind == FollowKind.VOIDED)
    return Status(200, out)
