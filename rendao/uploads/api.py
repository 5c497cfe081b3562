"""The attachments router: upload (multipart), read the description, download, delete.

Reads follow the attachment's purpose rule (`attachment_get_for_user`): an
attachment the caller may not read is a 404, exactly like one that does not
exist. A personal access token limited to a branch reaches attachments of that
subtree only, as everywhere in the API.
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from rendao.core.api import errors
from rendao.core.audit import RequestMeta
from rendao.core.models import Branch, User
from rendao.uploads.handlers import skipped_as_too_large
from rendao.uploads.models import Attachment
from rendao.uploads.selectors import attachment_get_for_user
from rendao.uploads.services import attachment_create, attachment_delete, attachment_record_read
from rendao.uploads.serving import attachment_response
from rendao.uploads.validation import too_large

router = Router(tags=["attachments"])


class AttachmentOut(Schema):
    id: UUID
    purpose: str
    branch_id: int | None = Field(description="The branch it belongs to; null for a personal file.")
    owner_id: int = Field(description="The user who uploaded it.")
    name: str = Field(description="The uploader's file name, cleaned; for display only.")
    content_type: str = Field(description="Sniffed from the content, never taken from the name.")
    size: int = Field(description="Bytes as stored (photos are re-encoded without metadata).")
    sha256: str
    width: int | None = Field(description="Pixels, for images.")
    height: int | None = Field(description="Pixels, for images.")
    created_at: datetime

    @staticmethod
    def resolve_name(obj: Attachment) -> str:
        return str(obj.original_name)


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.post(
    "/attachments",
    response={201: AttachmentOut, **errors(401, 403, 413, 422)},
    summary="Upload a file",
)
def attachment_upload(
    request: HttpRequest,
    purpose: Form[str],
    branch_id: Form[int | None] = None,
    file: File[UploadedFile | None] = None,
) -> Status[Attachment]:
    """multipart/form-data with `purpose`, `file` and optionally `branch_id`.

    The content type is sniffed from the bytes; the file name's extension must
    agree with it. Executables, decompression and zip bombs, images over the
    purpose's pixel limit and PDFs with scripts are refused with 422 and
    nothing is stored. Uploading at a branch needs `attachment.manage` there.
    """
    user = _caller(request)
    if file is None:
        if skipped_as_too_large(request, "file"):
            raise too_large(settings.UPLOADS_MAX_BYTES)
        raise ValidationError({"file": _("No file was sent.")})
    branch = None
    if branch_id is not None:
        branch = Branch.objects.filter(pk=branch_id, is_active=True).first()
        if branch is None:
            raise ValidationError({"branch_id": _("Unknown branch.")})
    attachment = attachment_create(
        actor=user, upload=file, purpose=purpose, branch=branch, meta=RequestMeta.from_request(request)
    )
    return Status(201, attachment)


@router.get(
    "/attachments/{attachment_id}",
    response={200: AttachmentOut, **errors(401, 404)},
    summary="Describe an attachment",
)
def attachment_detail(request: HttpRequest, attachment_id: UUID) -> Attachment:
    return attachment_get_for_user(user=_caller(request), pk=attachment_id)


@router.get(
    "/attachments/{attachment_id}/content",
    response={200: None, **errors(401, 404)},
    summary="Download an attachment",
)
def attachment_content(request: HttpRequest, attachment_id: UUID) -> HttpResponseBase:
    """The bytes, always as a download, with nosniff and a sandboxing CSP."""
    user = _caller(request)
    attachment = attachment_get_for_user(user=user, pk=attachment_id)
    attachment_record_read(actor=user, attachment=attachment, meta=RequestMeta.from_request(request))
    return attachment_response(attachment, download=True)


@router.delete(
    "/attachments/{attachment_id}",
    response={204: None, **errors(401, 403, 404)},
    summary="Delete an attachment",
)
def attachment_remove(request: HttpRequest, attachment_id: UUID) -> HttpResponse:
    """By its uploader, or by staff holding `attachment.manage` over its branch."""
    user = _caller(request)
    attachment = attachment_get_for_user(user=user, pk=attachment_id)
    attachment_delete(actor=user, attachment=attachment, meta=RequestMeta.from_request(request))
    return HttpResponse(status=204)
