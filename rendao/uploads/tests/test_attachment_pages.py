"""The staff attachments page, end to end through HTTP: upload at the current
branch (POST + CSRF), list, delete; and every bad file refused on the page with
its reason, nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from pytest_django.fixtures import Settings

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.uploads.models import Attachment
from rendao.uploads.services import attachment_create
from rendao.uploads.tests import files

pytestmark = pytest.mark.django_db

LIST = "/staff/attachments/"
UPLOAD = "/staff/attachments/upload/"


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def post_file(client: Client, data: bytes, name: str, purpose: str = "photo") -> Any:
    return client.post(UPLOAD, {"purpose": purpose, "file": SimpleUploadedFile(name, data)})


def test_the_urls_are_where_the_tests_expect() -> None:
    assert reverse("uploads:list") == LIST
    assert reverse("uploads:upload") == UPLOAD


def test_staff_upload_a_photo_and_see_it_listed(personas: Personas, uploads_dir: Path) -> None:
    client = english(signed_in_client(personas.siming_staff))
    response = post_file(client, files.png(), "救护站.png")
    assert response.status_code == 302, response.content[:500]
    attachment = Attachment.objects.get()
    assert attachment.branch == personas.tree.siming
    assert attachment.owner == personas.siming_staff
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "救护站.png" in html
    assert reverse("uploads:file", args=[attachment.pk]) in html
    assert 'enctype="multipart/form-data"' in html


def test_the_upload_needs_the_csrf_token(personas: Personas, uploads_dir: Path) -> None:
    client = signed_in_client(personas.siming_staff)
    client.handler.enforce_csrf_checks = True
    response = post_file(client, files.png(), "a.png")
    assert response.status_code == 403
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


BAD_FILES = [
    pytest.param(
        files.elf(), "cat.jpg", "photo", "Programs and scripts are not accepted", id="ELF named .jpg"
    ),
    pytest.param(
        files.xlsx_bomb(),
        "import.xlsx",
        "spreadsheet_import",
        "The file expands to far more than its size",
        id="zip bomb named .xlsx",
    ),
    pytest.param(
        files.huge_png(), "poster.png", "photo", "The image has too many pixels", id="50-megapixel PNG"
    ),
    pytest.param(
        files.png(),
        "scan.pdf",
        "proof_document",
        "The file name ends in “.pdf” but the file is a PNG image.",
        id="PNG named .pdf",
    ),
    pytest.param(b"", "empty.png", "photo", "The file is empty.", id="empty file"),
    pytest.param(
        files.pdf() + b"%" * (5 * 1024 * 1024),
        "big.pdf",
        "certificate",
        "The file is too large",
        id="over the purpose's limit",
    ),
]


@pytest.mark.parametrize(("data", "name", "purpose", "message"), BAD_FILES)
def test_a_bad_file_is_refused_on_the_page_and_nothing_is_stored(
    personas: Personas, uploads_dir: Path, data: bytes, name: str, purpose: str, message: str
) -> None:
    client = english(signed_in_client(personas.siming_staff))
    response = post_file(client, data, name, purpose)
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_a_file_over_the_request_cap_is_dropped_while_it_streams(
    personas: Personas, uploads_dir: Path, settings: Settings
) -> None:
    settings.UPLOADS_MAX_BYTES = 4096
    client = english(signed_in_client(personas.siming_staff))
    response = post_file(client, files.pdf() + b"%" * 100_000, "big.pdf", "certificate")
    assert response.status_code == 400
    assert "The file is too large: at most 4.0\xa0KB is accepted." in response.content.decode()
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_a_path_in_the_file_name_never_reaches_the_disk(personas: Personas, uploads_dir: Path) -> None:
    # Django's parser keeps only the last part of a multipart file name, so the
    # path is cut before our code sees it; the file lands under a random name
    # inside the uploads directory and the name shown is the last part alone.
    client = english(signed_in_client(personas.siming_staff))
    body, content_type = raw_multipart("../../../static/evil.png", files.png())
    response = client.post(UPLOAD, body, content_type=content_type)
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == "evil.png"
    [stored] = files.stored_files(uploads_dir)
    assert stored.resolve().is_relative_to(uploads_dir.resolve())
    assert "evil" not in str(stored)


def raw_multipart(filename: str, data: bytes, purpose: str = "photo") -> tuple[bytes, str]:
    """A multipart body with the file name exactly as given (the test client cleans names)."""
    boundary = "rendaoBoundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("filename", ["../..", "..\\..", "/"])
def test_a_file_name_that_is_only_a_path_is_refused(
    personas: Personas, uploads_dir: Path, filename: str
) -> None:
    client = english(signed_in_client(personas.siming_staff))
    body, content_type = raw_multipart(filename, files.png())
    response = client.post(UPLOAD, body, content_type=content_type)
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_an_unknown_purpose_is_refused_on_the_page(personas: Personas, uploads_dir: Path) -> None:
    client = english(signed_in_client(personas.siming_staff))
    response = post_file(client, files.png(), "a.png", purpose="rockets")
    assert response.status_code == 400
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_read_only_staff_see_the_list_but_no_upload_form(personas: Personas) -> None:
    client = signed_in_client(personas.auditor)
    page = client.get(LIST)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' not in page.content.decode()
    response = post_file(client, files.png(), "a.png")
    assert response.status_code == 403
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize("persona", ["public", "sysadmin", "outsider", "leader"])
def test_others_cannot_open_the_page(personas: Personas, persona: str) -> None:
    client = signed_in_client(getattr(personas, persona))
    assert client.get(LIST).status_code == 403
    assert post_file(client, files.png(), "a.png").status_code == 403
    assert Attachment.objects.count() == 0


def test_the_list_shows_only_the_current_branchs_subtree_in_scope(personas: Personas) -> None:
    def add(actor: object, branch: object, name: str) -> Attachment:
        return attachment_create(
            actor=actor,  # type: ignore[arg-type]
            upload=SimpleUploadedFile(name, files.png()),
            purpose="photo",
            branch=branch,  # type: ignore[arg-type]
            meta=RequestMeta(),
        )

    add(personas.siming_staff, personas.tree.street, "street.png")
    add(personas.huli_staff, personas.tree.school, "school.png")
    html = signed_in_client(personas.siming_staff).get(LIST).content.decode()
    assert "street.png" in html
    assert "school.png" not in html
    html = signed_in_client(personas.city_staff).get(LIST).content.decode()
    assert "street.png" in html
    assert "school.png" in html


def test_proof_documents_are_listed_to_reviewers_not_to_others(personas: Personas) -> None:
    attachment_create(
        actor=personas.siming_staff,
        upload=SimpleUploadedFile("proof.pdf", files.pdf()),
        purpose="proof_document",
        branch=personas.tree.siming,
        meta=RequestMeta(),
    )
    assert "proof.pdf" in signed_in_client(personas.reviewer).get(LIST).content.decode()
    # The auditor reads attachments, but proof documents only by review.decide.
    assert "proof.pdf" not in signed_in_client(personas.auditor).get(LIST).content.decode()


def test_the_list_costs_the_same_queries_for_many_attachments(personas: Personas) -> None:
    def count() -> int:
        client = signed_in_client(personas.city_staff)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        attachment_create(
            actor=personas.siming_staff,
            upload=SimpleUploadedFile(f"{i}.png", files.png()),
            purpose="photo",
            branch=personas.tree.siming,
            meta=RequestMeta(),
        )
    few = count()
    for i in range(3, 23):
        attachment_create(
            actor=personas.huli_staff,
            upload=SimpleUploadedFile(f"{i}.png", files.png()),
            purpose="photo",
            branch=personas.tree.huli,
            meta=RequestMeta(),
        )
    assert count() == few


def test_staff_delete_an_attachment_and_its_file(
    personas: Personas, uploads_dir: Path, django_capture_on_commit_callbacks: object
) -> None:
    attachment = attachment_create(
        actor=personas.reviewer,
        upload=SimpleUploadedFile("a.png", files.png()),
        purpose="photo",
        branch=personas.tree.siming,
        meta=RequestMeta(),
    )
    client = signed_in_client(personas.siming_staff)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(reverse("uploads:delete", args=[attachment.pk]))
    assert response.status_code == 302
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_staff_out_of_scope_cannot_delete(personas: Personas, uploads_dir: Path) -> None:
    attachment = attachment_create(
        actor=personas.siming_staff,
        upload=SimpleUploadedFile("a.png", files.png()),
        purpose="photo",
        branch=personas.tree.siming,
        meta=RequestMeta(),
    )
    client = signed_in_client(personas.huli_staff)
    assert client.post(reverse("uploads:delete", args=[attachment.pk])).status_code == 404
    # The auditor may read it but not delete it.
    assert (
        signed_in_client(personas.auditor).post(reverse("uploads:delete", args=[attachment.pk])).status_code
        == 403
    )
    assert Attachment.objects.count() == 1
    assert len(files.stored_files(uploads_dir)) == 1
