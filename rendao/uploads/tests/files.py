"""Small files made by the tests themselves: good ones and every kind of bad one."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from PIL import ExifTags, Image

# 厦门 (Xiamen), as an EXIF GPS block: the location a phone photo would carry.
GPS = {1: "N", 2: (24.0, 27.0, 0.0), 3: "E", 4: (118.0, 5.0, 0.0)}


def png(size: tuple[int, int] = (32, 16), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def jpeg_with_gps_and_orientation() -> bytes:
    """40×20, left half red, right half blue, stored rotated (EXIF orientation 6)
    and carrying a GPS location and a camera maker."""
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = GPS
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, quality=95)
    return buf.getvalue()


def huge_png() -> bytes:
    """50 megapixels (8000×6250) in about 6 KB: a one-bit image compresses well."""
    buf = io.BytesIO()
    Image.new("1", (8000, 6250)).save(buf, "PNG")
    return buf.getvalue()


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def pdf(body: bytes = b"") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R " + body + b">>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_with_script_in_object_stream() -> bytes:
    """/JavaScript hidden in a Flate-compressed object stream."""
    hidden = zlib.compress(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    return (
        b"%PDF-1.5\n3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
        + str(len(hidden)).encode()
        + b" >>\nstream\n"
        + hidden
        + b"\nendstream\nendobj\n%%EOF\n"
    )


def xlsx(extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook: the parts an .xlsx must have (enough for the checks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def xlsx_bomb(megabytes: int = 40) -> bytes:
    """An .xlsx whose one sheet inflates from ~40 KB to `megabytes` MB of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        chunk = b"\x00" * (1024 * 1024)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(megabytes):
                sheet.write(chunk)
    return buf.getvalue()


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
