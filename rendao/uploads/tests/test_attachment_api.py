"""The attachments API: multipart upload, description, download, delete; bad
files refused with 422 in the API's one error shape, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.services.tokens import token_create
from rendao.uploads.models import Attachment
from rendao.uploads.services import attachment_create
from rendao.uploads.tests import files

pytestmark = pytest.mark.django_db

URL = "/api/v1/attachments"


def token_client(personas: Personas, persona: str = "siming_staff", branch: Any = None) -> Client:
    _, plaintext = token_create(actor=getattr(personas, persona), name="t", branch=branch, meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def post(client: Client, data: bytes, name: str, purpose: str = "photo", branch_id: Any = None) -> Any:
    body: dict[str, Any] = {"purpose": purpose, "file": SimpleUploadedFile(name, data)}
    if branch_id is not None:
        body["branch_id"] = branch_id
    return client.post(URL, body)


def test_a_token_uploads_and_downloads_a_photo(personas: Personas) -> None:
    client = token_client(personas)
    response = post(
        client, files.jpeg_with_gps_and_orientation(), "现场.jpg", branch_id=personas.tree.siming.pk
    )
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    assert body["name"] == "现场.jpg"
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (20, 40)
    assert body["branch_id"] == personas.tree.siming.pk
    detail = client.get(f"{URL}/{body['id']}")
    assert detail.status_code == 200
    assert json.loads(detail.content)["sha256"] == body["sha256"]
    content = client.get(f"{URL}/{body['id']}/content")
    assert content.status_code == 200
    assert content["Content-Type"] == "image/jpeg"
    assert content["Content-Disposition"].startswith("attachment;")
    assert content["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in content["Content-Security-Policy"]
    assert len(content.getvalue()) == body["size"]


def test_a_signed_in_session_uploads_with_its_csrf_token(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    client.handler.enforce_csrf_checks = True
    assert post(client, files.png(), "a.png").status_code == 403
    assert Attachment.objects.count() == 0


BAD = [
    pytest.param(files.elf(), "cat.jpg", "photo", "Programs and scripts", id="ELF named .jpg"),
    pytest.param(files.xlsx_bomb(), "a.xlsx", "spreadsheet_import", "zip bomb", id="zip bomb"),
    pytest.param(files.huge_png(), "p.png", "photo", "too many pixels", id="50-megapixel PNG"),
    pytest.param(files.png(), "scan.pdf", "proof_document", "but the file is a PNG image", id="PNG as PDF"),
    pytest.param(b"", "e.png", "photo", "The file is empty.", id="empty"),
    pytest.param(
        files.pdf() + b"%" * (5 * 1024 * 1024), "big.pdf", "certificate", "too large", id="over the limit"
    ),
    pytest.param(files.png(), "a.png", "rockets", "Unknown purpose", id="unknown purpose"),
]


@pytest.mark.parametrize(("data", "name", "purpose", "message"), BAD)
def test_a_bad_file_is_a_422_and_nothing_is_stored(
    personas: Personas, uploads_dir: Path, data: bytes, name: str, purpose: str, message: str
) -> None:
    response = post(token_client(personas), data, name, purpose, branch_id=personas.tree.siming.pk)
    assert response.status_code == 422, response.content
    error = json.loads(response.content)["error"]
    assert error["code"] == "validation_error"
    assert any(message in d["message"] for d in error["details"]), error
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_a_file_over_the_request_cap_says_so(
    personas: Personas, uploads_dir: Path, settings: Settings
) -> None:
    settings.UPLOADS_MAX_BYTES = 4096
    response = post(token_client(personas), files.pdf() + b"%" * 50_000, "big.pdf", "certificate")
    assert response.status_code == 422
    [detail] = json.loads(response.content)["error"]["details"]
    assert detail == {
        "loc": ["body", "file"],
        "message": "The file is too large: at most 4.0\xa0KB is accepted.",
        "type": "invalid",
    }
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_no_file_is_a_422(personas: Personas) -> None:
    response = token_client(personas).post(URL, {"purpose": "photo"})
    assert response.status_code == 422
    assert "No file was sent." in response.content.decode()


def test_an_unknown_branch_is_a_422(personas: Personas, uploads_dir: Path) -> None:
    response = post(token_client(personas), files.png(), "a.png", branch_id=999_999)
    assert response.status_code == 422
    assert files.stored_files(uploads_dir) == []


def test_a_branch_outside_the_token_is_refused(personas: Personas, uploads_dir: Path) -> None:
    client = token_client(personas, "city_staff", branch=personas.tree.huli)
    response = post(client, files.png(), "a.png", branch_id=personas.tree.siming.pk)
    assert response.status_code == 403
    assert Attachment.objects.count() == 0
    assert files.stored_files(uploads_dir) == []


def test_anonymous_callers_get_a_401(personas: Personas) -> None:
    assert post(Client(), files.png(), "a.png").status_code == 401
    assert Attachment.objects.count() == 0


def test_someone_elses_attachment_is_a_404_in_every_operation(personas: Personas) -> None:
    attachment = attachment_create(
        actor=personas.siming_staff,
        upload=SimpleUploadedFile("a.png", files.png()),
        purpose="photo",
        branch=personas.tree.siming,
        meta=RequestMeta(),
    )
    client = token_client(personas, "city_staff", branch=personas.tree.huli)
    for response in (
        client.get(f"{URL}/{attachment.pk}"),
        client.get(f"{URL}/{attachment.pk}/content"),
        client.delete(f"{URL}/{attachment.pk}"),
    ):
        assert response.status_code == 404
        assert json.loads(response.content)["error"]["code"] == "not_found"
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_the_uploader_deletes_through_the_api(personas: Personas, uploads_dir: Path) -> None:
    client = token_client(personas)
    body = json.loads(post(client, files.png(), "a.png").content)
    assert client.delete(f"{URL}/{body['id']}").status_code == 204
    assert Attachment.objects.count() == 0
