"""Who may read an attachment, and how its bytes are served: only through the
access-checked view, 404 to everyone else (never 403), with headers that stop a
browser from sniffing or running it, and handed to the web server in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import AuditEvent, User
from rendao.uploads.models import Attachment
from rendao.uploads.selectors import attachment_get_for_user
from rendao.uploads.services import attachment_create
from rendao.uploads.serving import content_disposition
from rendao.uploads.tests import files

pytestmark = pytest.mark.django_db


def make(
    personas: Personas, *, purpose: str = "photo", data: bytes | None = None, name: str = "a.png"
) -> Attachment:
    return attachment_create(
        actor=personas.siming_staff,
        upload=SimpleUploadedFile(name, data if data is not None else files.png()),
        purpose=purpose,
        branch=personas.tree.street,
        meta=RequestMeta(),
    )


def url(attachment: Attachment) -> str:
    return reverse("uploads:file", args=[attachment.pk])


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("siming_staff", True),  # the uploader
        ("city_staff", True),  # attachment.view above the branch
        ("reviewer", True),
        ("auditor", True),
        ("finance", True),
        ("huli_staff", False),  # another district
        ("leader", False),  # no attachment.view
        ("sysadmin", False),
        ("outsider", False),
        ("public", False),
    ],
)
def test_photos_are_read_by_the_uploader_and_staff_in_scope(
    personas: Personas, persona: str, allowed: bool
) -> None:
    attachment = make(personas)
    response = signed_in_client(getattr(personas, persona)).get(url(attachment))
    assert response.status_code == (200 if allowed else 404)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("siming_staff", True), ("reviewer", True), ("city_staff", False), ("auditor", False)],
)
def test_proof_documents_are_read_by_reviewers_only(personas: Personas, persona: str, allowed: bool) -> None:
    attachment = make(personas, purpose="proof_document", data=files.pdf(), name="proof.pdf")
    response = signed_in_client(getattr(personas, persona)).get(url(attachment))
    assert response.status_code == (200 if allowed else 404)


def test_each_read_of_a_proof_document_by_someone_else_is_audited(personas: Personas) -> None:
    attachment = make(personas, purpose="proof_document", data=files.pdf(), name="proof.pdf")
    signed_in_client(personas.siming_staff).get(url(attachment))  # the uploader: not audited
    assert not AuditEvent.objects.filter(action="attachment.read").exists()
    signed_in_client(personas.reviewer).get(url(attachment))
    event = AuditEvent.objects.get(action="attachment.read")
    assert event.actor == personas.reviewer
    assert event.object_id == str(attachment.pk)


def test_a_public_user_reads_only_their_own(personas: Personas) -> None:
    own = attachment_create(
        actor=personas.public,
        upload=SimpleUploadedFile("me.png", files.png()),
        purpose="photo",
        meta=RequestMeta(),
    )
    assert signed_in_client(personas.public).get(url(own)).status_code == 200
    assert signed_in_client(personas.volunteer).get(url(own)).status_code == 404
    # A personal file has no branch: no staff role reaches it.
    assert signed_in_client(personas.city_staff).get(url(own)).status_code == 404


def test_anonymous_and_half_signed_in_get_a_404(personas: Personas) -> None:
    attachment = make(personas)
    assert Client().get(url(attachment)).status_code == 404
    assert signed_in_client(personas.city_staff, verified=False).get(url(attachment)).status_code == 404


def test_an_absent_id_looks_the_same_as_a_forbidden_one(personas: Personas) -> None:
    attachment = make(personas)
    client = signed_in_client(personas.huli_staff)
    forbidden = client.get(url(attachment))
    absent = client.get(reverse("uploads:file", args=["00000000-0000-4000-8000-000000000000"]))
    assert forbidden.status_code == absent.status_code == 404


def test_a_deactivated_user_reads_nothing(personas: Personas) -> None:
    attachment = make(personas)
    user = User.objects.get(pk=personas.siming_staff.pk)
    user.is_active = False
    with pytest.raises(Http404):
        attachment_get_for_user(user=user, pk=attachment.pk)


def test_images_show_inline_with_protective_headers(personas: Personas) -> None:
    attachment = make(personas, name="救护站 照片.png")
    response = signed_in_client(personas.siming_staff).get(url(attachment))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        'inline; filename="attachment.png"; '
        "filename*=UTF-8''%E6%95%91%E6%8A%A4%E7%AB%99%20%E7%85%A7%E7%89%87.png"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    from rendao.uploads.storage import uploads_storage

    with uploads_storage().open(attachment.storage_name, "rb") as fh:
        assert response.getvalue() == fh.read()


def test_documents_always_download(personas: Personas) -> None:
    attachment = make(personas, purpose="certificate", data=files.pdf(), name="cert.pdf")
    response = signed_in_client(personas.siming_staff).get(url(attachment))
    assert response["Content-Disposition"].startswith('attachment; filename="cert.pdf"')
    assert response.getvalue() == files.pdf()


def test_an_image_downloads_when_asked(personas: Personas) -> None:
    attachment = make(personas)
    response = signed_in_client(personas.siming_staff).get(url(attachment) + "?download=1")
    assert response["Content-Disposition"].startswith("attachment;")


def test_nginx_gets_the_file_by_x_accel_redirect(personas: Personas, settings: Settings) -> None:
    attachment = make(personas)
    settings.UPLOADS_SENDFILE = "x-accel-redirect"
    response = signed_in_client(personas.siming_staff).get(url(attachment))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{attachment.storage_name}"
    assert response.content == b""
    assert response["X-Content-Type-Options"] == "nosniff"


def test_apache_gets_the_file_by_x_sendfile(
    personas: Personas, settings: Settings, uploads_dir: Path
) -> None:
    attachment = make(personas)
    settings.UPLOADS_SENDFILE = "x-sendfile"
    response = signed_in_client(personas.siming_staff).get(url(attachment))
    assert response["X-Sendfile"] == str(uploads_dir / attachment.storage_name)
    assert response.content == b""


def test_the_file_view_changes_nothing_on_post(personas: Personas) -> None:
    attachment = make(personas)
    assert signed_in_client(personas.siming_staff).post(url(attachment)).status_code == 405


def test_the_storage_has_no_public_url(personas: Personas) -> None:
    from rendao.uploads.storage import uploads_storage

    attachment = make(personas)
    with pytest.raises(NotImplementedError):
        uploads_storage().url(attachment.storage_name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        ('a"b\\c.pdf', "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf"),
        ("证明.pdf", "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''%E8%AF%81%E6%98%8E.pdf"),
        ("Café.pdf", "attachment; filename=\"Cafe.pdf\"; filename*=UTF-8''Caf%C3%A9.pdf"),
    ],
)
def test_the_download_name_follows_rfc_6266(name: str, expected: str) -> None:
    assert content_disposition(name, inline=False) == expected
