"""Photos lose their metadata (GPS location above all) and are stored upright."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import ExifTags, Image

from rendao.conftest import Personas
from rendao.core.audit import RequestMeta
from rendao.uploads import purposes
from rendao.uploads.services import attachment_create
from rendao.uploads.storage import uploads_storage
from rendao.uploads.tests import files

pytestmark = pytest.mark.django_db


def stored_image(name: str) -> Image.Image:
    with uploads_storage().open(name, "rb") as fh:
        return Image.open(io.BytesIO(fh.read()))


def test_the_fixture_really_carries_gps_and_a_rotation() -> None:
    # Guards the tests below: they would pass vacuously on a clean image.
    image = Image.open(io.BytesIO(files.jpeg_with_gps_and_orientation()))
    exif = image.getexif()
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == files.GPS
    assert exif[ExifTags.Base.Orientation] == 6
    assert image.size == (40, 20)


def test_gps_location_and_other_exif_are_gone_after_upload(personas: Personas, uploads_dir: Path) -> None:
    attachment = attachment_create(
        actor=personas.public,
        upload=ContentFile(files.jpeg_with_gps_and_orientation(), name="IMG_0001.JPG"),
        purpose="photo",
        meta=RequestMeta(),
    )
    image = stored_image(attachment.storage_name)
    exif = image.getexif()
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert ExifTags.Base.Make not in exif
    assert "exif" not in image.info
    raw = files.stored_files(uploads_dir)[0].read_bytes()
    assert b"PhoneCo" not in raw
    assert b"Exif" not in raw


def test_the_orientation_is_applied(personas: Personas) -> None:
    attachment = attachment_create(
        actor=personas.public,
        upload=ContentFile(files.jpeg_with_gps_and_orientation(), name="IMG_0001.jpg"),
        purpose="photo",
        meta=RequestMeta(),
    )
    image = stored_image(attachment.storage_name).convert("RGB")
    # Orientation 6 is "rotate 90° clockwise to view": 40×20 becomes 20×40, and
    # the red left half ends up on top, the blue right half at the bottom.
    assert image.size == (20, 40) == (attachment.width, attachment.height)
    top = image.getpixel((10, 5))
    bottom = image.getpixel((10, 35))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert top[0] > 200
    assert top[2] < 60
    assert bottom[2] > 200
    assert bottom[0] < 60
    assert ExifTags.Base.Orientation not in stored_image(attachment.storage_name).getexif()


def test_a_purpose_may_keep_the_original_bytes(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    keep = purposes.Purpose(
        code="test_evidence",
        label="Evidence",
        content_types=frozenset({purposes.JPEG}),
        max_bytes=1024 * 1024,
        strip_exif=False,
    )
    monkeypatch.setitem(purposes._REGISTRY, keep.code, keep)
    data = files.jpeg_with_gps_and_orientation()
    attachment = attachment_create(
        actor=personas.public, upload=ContentFile(data, name="a.jpg"), purpose=keep.code, meta=RequestMeta()
    )
    with uploads_storage().open(attachment.storage_name, "rb") as fh:
        assert fh.read() == data
