"""Every check of `attachment_create`, through the service: what is refused is
refused with a clear, translated error on the file, and nothing is stored —
no row, no file, no audit event."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import translation

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.core.models import AuditEvent
from rendao.uploads.models import Attachment
from rendao.uploads.services import attachment_create
from rendao.uploads.tests import files
from rendao.uploads.validation import EXECUTABLE_MAGIC

pytestmark = pytest.mark.django_db


def upload(personas: Personas, data: bytes, name: str, purpose: str = "photo") -> Attachment:
    return attachment_create(
        actor=personas.siming_staff,
        upload=ContentFile(data, name=name),
        purpose=purpose,
        branch=personas.tree.siming,
        meta=RequestMeta(),
    )


def refused(personas: Personas, uploads_dir: Path, data: bytes, name: str, purpose: str = "photo") -> str:
    """Upload, expect a refusal on the file, check nothing was kept; return the message."""
    events = AuditEvent.objects.count()
    with translation.override("en"), pytest.raises(ValidationError) as info:
        upload(personas, data, name, purpose)
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []
    assert AuditEvent.objects.count() == events
    messages = info.value.message_dict["file"]
    assert len(messages) == 1
    return messages[0]


def test_it_stores_a_good_photo_under_a_random_name(personas: Personas, uploads_dir: Path) -> None:
    attachment = upload(personas, files.png(), "站点照片.png")
    assert attachment.content_type == "image/png"
    assert (attachment.width, attachment.height) == (32, 16)
    assert attachment.original_name == "站点照片.png"
    stored = files.stored_files(uploads_dir)
    assert len(stored) == 1
    assert stored[0].name == attachment.storage_name.rsplit("/", 1)[1]
    assert len(stored[0].name) == 32
    assert "." not in stored[0].name
    assert stored[0].stat().st_mode & 0o777 == 0o600
    assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == attachment.sha256
    assert stored[0].stat().st_size == attachment.size
    event = AuditEvent.objects.get(action="attachment.create")
    assert event.object_id == str(attachment.pk)
    # The file name may be personal: it is not in the audit row.
    assert "站点照片" not in str(event.after)


def test_the_same_file_twice_is_two_attachments(personas: Personas, uploads_dir: Path) -> None:
    first = upload(personas, files.png(), "a.png")
    second = upload(personas, files.png(), "a.png")
    assert first.sha256 == second.sha256
    assert first.storage_name != second.storage_name
    assert len(files.stored_files(uploads_dir)) == 2


def test_the_file_name_is_stored_encrypted(personas: Personas) -> None:
    from django.db import connection

    attachment = upload(personas, files.png(), "13800138000.png")
    with connection.cursor() as cursor:
        cursor.execute("SELECT original_name FROM uploads_attachment WHERE id = %s", [attachment.pk.hex])
        row = cursor.fetchone()
    if row is None:  # PostgreSQL keeps UUIDs as uuid, SQLite as hex text
        with connection.cursor() as cursor:
            cursor.execute("SELECT original_name FROM uploads_attachment WHERE id = %s", [str(attachment.pk)])
            row = cursor.fetchone()
    assert row is not None
    assert "13800138000" not in row[0]


@pytest.mark.parametrize("magic", EXECUTABLE_MAGIC)
def test_it_refuses_an_executable_named_as_an_image(
    personas: Personas, uploads_dir: Path, magic: bytes
) -> None:
    message = refused(personas, uploads_dir, magic + b"\x00" * 200, "holiday.jpg")
    assert message == "Programs and scripts are not accepted, whatever their name."


def test_it_refuses_a_shell_script_named_as_a_pdf(personas: Personas, uploads_dir: Path) -> None:
    message = refused(personas, uploads_dir, b"#!/bin/sh\nrm -rf /\n", "report.pdf", "certificate")
    assert "Programs and scripts" in message


def test_it_refuses_a_png_that_claims_to_be_a_pdf(personas: Personas, uploads_dir: Path) -> None:
    message = refused(personas, uploads_dir, files.png(), "scan.pdf", "proof_document")
    assert message == "The file name ends in “.pdf” but the file is a PNG image."


def test_it_refuses_a_type_the_purpose_does_not_take(personas: Personas, uploads_dir: Path) -> None:
    message = refused(personas, uploads_dir, files.pdf(), "list.pdf", "spreadsheet_import")
    assert message.startswith("This kind of file is not accepted for “Spreadsheet to import”.")
    assert "Excel workbook" in message


def test_it_refuses_content_it_cannot_identify(personas: Personas, uploads_dir: Path) -> None:
    message = refused(personas, uploads_dir, b"<svg onload=alert(1)></svg>", "logo.png")
    assert message.startswith("This kind of file is not accepted")


def test_it_refuses_an_empty_file(personas: Personas, uploads_dir: Path) -> None:
    assert refused(personas, uploads_dir, b"", "empty.png") == "The file is empty."


def test_it_refuses_a_file_over_the_purposes_limit(personas: Personas, uploads_dir: Path) -> None:
    data = files.pdf() + b"%" * (5 * 1024 * 1024)  # certificates: at most 5 MiB
    message = refused(personas, uploads_dir, data, "big.pdf", "certificate")
    assert message == "The file is too large: at most 5.0\xa0MB is accepted."


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\..\\boot.png", "a/b.png", "..", "x\x00.png"])
def test_it_refuses_a_file_name_that_is_a_path(personas: Personas, uploads_dir: Path, name: str) -> None:
    message = refused(personas, uploads_dir, files.png(), name)
    assert message == "The file name must be a plain name, not a path."


def test_it_drops_control_characters_from_the_name(personas: Personas) -> None:
    # U+202E turns "gnp.exe" into what reads as "exe.png".
    attachment = upload(personas, files.png(), "photo\u202egnp.png")
    assert attachment.original_name == "photognp.png"


def test_it_refuses_a_50_megapixel_png(personas: Personas, uploads_dir: Path) -> None:
    data = files.huge_png()
    assert len(data) < 20_000  # small on disk: the danger is in decoding it
    message = refused(personas, uploads_dir, data, "poster.png")
    assert message == "The image has too many pixels: at most 25 megapixels are accepted."


def test_it_refuses_a_damaged_image(personas: Personas, uploads_dir: Path) -> None:
    data = files.png((300, 300))
    message = refused(personas, uploads_dir, data[: len(data) // 2], "cut.png")
    assert message == "The image is damaged or incomplete."


def test_it_stores_a_plain_pdf(personas: Personas) -> None:
    attachment = upload(personas, files.pdf(), "证明.pdf", "proof_document")
    assert attachment.content_type == "application/pdf"
    assert attachment.width is None


@pytest.mark.parametrize(
    "body",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> ",
        b"/OpenAction << /S /Launch /F (cmd.exe) >> ",
        b"/Names << /EmbeddedFiles 5 0 R >> ",
        b"/OpenAction << /S /J#61vaScript /J#53 (x) >> ",
    ],
    ids=["javascript", "launch", "embedded file", "escaped names"],
)
def test_it_refuses_a_pdf_with_active_content(personas: Personas, uploads_dir: Path, body: bytes) -> None:
    message = refused(personas, uploads_dir, files.pdf(body), "form.pdf", "proof_document")
    assert message.startswith("PDF documents with scripts")


def test_it_finds_a_script_inside_a_compressed_object_stream(personas: Personas, uploads_dir: Path) -> None:
    data = files.pdf_with_script_in_object_stream()
    message = refused(personas, uploads_dir, data, "form.pdf", "proof_document")
    assert message.startswith("PDF documents with scripts")


def test_it_stores_a_workbook(personas: Personas) -> None:
    attachment = upload(personas, files.xlsx(), "名单.xlsx", "spreadsheet_import")
    assert attachment.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_it_refuses_a_zip_bomb_named_xlsx(personas: Personas, uploads_dir: Path) -> None:
    data = files.xlsx_bomb()
    assert len(data) < 200_000
    message = refused(personas, uploads_dir, data, "import.xlsx", "spreadsheet_import")
    assert message == "The file expands to far more than its size (a “zip bomb”) and is not accepted."


def test_it_refuses_a_workbook_with_a_traversal_entry(personas: Personas, uploads_dir: Path) -> None:
    data = files.xlsx({"../../../../tmp/evil.sh": b"#!/bin/sh\n"})
    message = refused(personas, uploads_dir, data, "import.xlsx", "spreadsheet_import")
    assert message == "The file contains entries with unsafe paths."


def test_it_refuses_a_plain_zip_named_xlsx(personas: Personas, uploads_dir: Path) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    message = refused(personas, uploads_dir, buf.getvalue(), "import.xlsx", "spreadsheet_import")
    assert message.startswith("This kind of file is not accepted")


def test_an_unknown_purpose_is_refused(personas: Personas, uploads_dir: Path) -> None:
    with pytest.raises(ValidationError) as info:
        upload(personas, files.png(), "a.png", purpose="rockets")
    assert "purpose" in info.value.message_dict
    assert files.stored_files(uploads_dir) == []


def test_staff_cannot_upload_at_a_branch_outside_their_scope(personas: Personas, uploads_dir: Path) -> None:
    with pytest.raises(PermissionDenied):
        attachment_create(
            actor=personas.huli_staff,
            upload=ContentFile(files.png(), name="a.png"),
            purpose="photo",
            branch=personas.tree.siming,
            meta=RequestMeta(),
        )
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_read_only_roles_cannot_upload_at_a_branch(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        attachment_create(
            actor=personas.auditor,
            upload=ContentFile(files.png(), name="a.png"),
            purpose="photo",
            branch=personas.tree.city,
            meta=RequestMeta(),
        )


def test_a_public_user_may_upload_a_personal_file(personas: Personas) -> None:
    attachment = attachment_create(
        actor=personas.public,
        upload=ContentFile(files.png(), name="me.png"),
        purpose="photo",
        branch=None,
        meta=RequestMeta(),
    )
    assert attachment.owner == personas.public
    assert attachment.branch is None


def test_a_failed_row_write_removes_the_stored_file(
    personas: Personas, uploads_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rendao.uploads import services

    def broken(**kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        upload(personas, files.png(), "a.png")
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []
