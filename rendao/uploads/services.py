"""Writes: store a checked upload, delete an attachment, record a read.

Each service owns its transaction and writes its audit row inside it. Audit
rows describe the file (purpose, type, size, hash) but never its name, which
may be personal (rendao.uploads.models.Attachment.original_name).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from rendao.core import scope
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.permissions import Perm
from rendao.uploads.models import Attachment
from rendao.uploads.purposes import get_purpose, get_purpose_or_none
from rendao.uploads.storage import new_storage_name, uploads_storage
from rendao.uploads.validation import check_content, clean_name, spooled

if TYPE_CHECKING:
    from rendao.core.models import Branch, User


def _snapshot(attachment: Attachment) -> dict[str, Any]:
    return {
        "purpose": attachment.purpose,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "width": attachment.width,
        "height": attachment.height,
        "owner": attachment.owner_id,
    }


def _store(body: IO[bytes]) -> str:
    stored: str = uploads_storage().save(new_storage_name(), File(body))
    return stored


def attachment_create(
    *,
    actor: User,
    upload: File[Any],
    purpose: str,
    branch: Branch | None = None,
    meta: RequestMeta,
) -> Attachment:
    """Check `upload` for `purpose` and store it; refuse with a ValidationError.

    `upload.name` is the name the uploader gave: a plain file name (a request's
    UploadedFile always is; other callers pass `File(fh, name=basename)`).
    Nothing is stored when a check fails, and the stored file is removed again
    if the row cannot be written.
    """
    spec = get_purpose(purpose)
    if not actor.is_active or not spec.allows_upload(actor, branch):
        raise PermissionDenied(_("You may not upload files here."))
    name = clean_name(getattr(upload, "name", None))
    with spooled(upload, max_bytes=spec.max_bytes) as raw:
        checked = check_content(raw, name=name, purpose=spec)
        try:
            storage_name = _store(checked.body)
        finally:
            if checked.body is not raw:
                checked.body.close()
    try:
        with transaction.atomic():
            attachment = Attachment(
                purpose=spec.code,
                branch=branch,
                owner=actor,
                original_name=name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                width=checked.width,
                height=checked.height,
                storage_name=storage_name,
            )
            attachment.save(force_insert=True)
            audit_record(
                actor=actor,
                action="attachment.create",
                obj=attachment,
                branch=branch,
                after=_snapshot(attachment),
                meta=meta,
            )
    except BaseException:
        uploads_storage().delete(storage_name)
        raise
    return attachment


def may_delete(user: User, attachment: Attachment) -> bool:
    """The uploader, or staff who may manage attachments over its branch."""
    if not user.is_active:
        return False
    if attachment.owner_id == user.pk:
        return True
    return attachment.branch is not None and scope.in_scope(user, Perm.ATTACHMENT_MANAGE, attachment.branch)


def attachment_delete(*, actor: User, attachment: Attachment, meta: RequestMeta) -> None:
    """Delete the row now and the bytes once the deletion has committed.

    A reference from another record (PROTECT) makes the delete fail as a whole,
    so a document still used by an application cannot vanish from under it.
    """
    if not may_delete(actor, attachment):
        raise PermissionDenied(_("You may not delete this attachment."))
    storage_name = attachment.storage_name
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="attachment.delete",
            obj=attachment,
            branch=attachment.branch,
            before=_snapshot(attachment),
            meta=meta,
        )
        attachment.delete()
        transaction.on_commit(lambda: uploads_storage().delete(storage_name))


def attachment_record_read(*, actor: User, attachment: Attachment, meta: RequestMeta) -> None:
    """Audit a read by someone other than the uploader, for sensitive purposes."""
    spec = get_purpose_or_none(attachment.purpose)
    if spec is None or not spec.audit_reads or attachment.owner_id == actor.pk:
        return
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="attachment.read",
            obj=attachment,
            branch=attachment.branch,
            meta=meta,
        )
