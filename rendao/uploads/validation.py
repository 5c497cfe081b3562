"""Checking an uploaded file before anything is stored.

The order matters and each step refuses with a translated ValidationError on
the "file" field:

1. the name: a plain file name, never a path; cleaned for display;
2. the size: counted while the upload is copied to a private temporary file, so
   an oversized upload stops at the limit and is never read whole into memory;
3. the content type: sniffed from the magic bytes by `filetype` (pure Python, no
   libmagic needed), never taken from the name or the browser's Content-Type;
   executables are refused whatever they are called; the type must be one the
   purpose accepts and the name's extension must agree with it;
4. the content itself, by kind:
   - images are opened with Pillow, refused above the purpose's pixel limit
     before decoding (decompression bombs), decoded fully (damaged files fail
     here), then turned upright by their EXIF orientation and re-encoded without
     metadata, which drops EXIF GPS location, XMP and comments;
   - PDFs must start with %PDF- and carry no active content (see `PDF_ACTIVE_KEYS`);
   - Office files (ZIP) are checked from their directory, without extracting, for
     bombs (entry count, total size, compression ratio), unsafe paths, links and
     encryption, and for the parts their type must contain.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from rendao.uploads import purposes as p
from rendao.uploads.purposes import Purpose

CHUNK = 64 * 1024
MAX_NAME_LENGTH = 150
# Bytes read for sniffing: what filetype looks at (its own limit is 8192).
HEAD_BYTES = 8192

# Magic numbers of programs that run when opened, refused under any name:
# ELF (Linux), MZ (Windows PE), Mach-O thin (both byte orders, 32/64-bit) and fat
# binaries (also Java class files, equally unwelcome), and scripts with a shebang.
EXECUTABLE_MAGIC = (
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
EXECUTABLE_MIMES = frozenset(
    {"application/x-executable", "application/x-msdownload", "application/x-mach-binary"}
)

# PDF name keys that make a document act when opened rather than just show:
# JavaScript (/JS, /JavaScript), starting programs (/Launch), files carried
# inside (/EmbeddedFile, /EmbeddedFiles), Flash and media (/RichMedia). A
# simple, documented check: names are matched after undoing #xx escapes (so
# "/J#61vaScript" is caught), in the raw file and inside every Flate-compressed
# stream (object streams hide dictionaries there), up to a decompression budget.
# Proof documents are scans and exports; none of them needs any of these.
PDF_ACTIVE_KEYS = frozenset(
    {b"JS", b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia"}
)
PDF_INFLATE_BUDGET = 64 * 1024 * 1024
_PDF_NAME = re.compile(rb"/([A-Za-z0-9#]{1,64})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")

# Parts each Office type must contain: a ZIP named .xlsx that is not a workbook
# is refused like any other disguise.
ZIP_REQUIRED_PARTS = {
    p.XLSX: ("[Content_Types].xml", "xl/workbook.xml"),
    p.DOCX: ("[Content_Types].xml", "word/document.xml"),
}
# Entries bigger than this are held to the purpose's compression-ratio limit;
# tiny XML parts legitimately compress very well.
ZIP_RATIO_MIN_SIZE = 1024 * 1024

PILLOW_FORMATS = {p.JPEG: "JPEG", p.PNG: "PNG", p.WEBP: "WEBP"}
# Image metadata kept when re-encoding: colour profile and transparency only.
KEEP_IMAGE_INFO = ("icc_profile", "transparency")


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


@dataclass
class Checked:
    """What the checks found; `body` holds the bytes to store (re-encoded for images)."""

    content_type: str
    body: IO[bytes]
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


# --- 1. the name -----------------------------------------------------------------


def clean_name(raw: str | None) -> str:
    """A file name fit for display: refused if it is a path, empty or unprintable.

    Django's multipart parser already keeps only the last component of a
    browser's file name; callers that are not requests (commands, imports) pass
    a basename too, and anything else is refused rather than quietly cut.
    """
    if raw is None or not raw.strip():
        raise _refuse(_("The file has no name."), "no_name")
    if "/" in raw or "\\" in raw or "\x00" in raw or raw.strip() in {".", ".."}:
        raise _refuse(_("The file name must be a plain name, not a path."), "path_name")
    name = unicodedata.normalize("NFC", raw)
    # Control and format characters (right-to-left overrides make "gpj.exe"
    # read as "exe.jpg") are dropped.
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".").strip()
    if not name:
        raise _refuse(_("The file has no name."), "no_name")
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = os.path.splitext(name)
        ext = ext[:20]
        name = stem[: MAX_NAME_LENGTH - len(ext)] + ext
    return name


# --- 2. the size -----------------------------------------------------------------


def _chunks(upload: File[Any]) -> Iterator[bytes]:
    if hasattr(upload, "seek"):
        # A stream that cannot rewind is read from where it is.
        with contextlib.suppress(OSError, ValueError):
            upload.seek(0)
    yield from upload.chunks(CHUNK)


@contextmanager
def spooled(upload: File[Any], *, max_bytes: int) -> Iterator[IO[bytes]]:
    """Copy the upload to an anonymous temporary file, stopping past `max_bytes`.

    The copy is deleted when the block ends, whatever happens. Reading stops at
    the first chunk over the limit, so a huge upload costs one chunk more than
    the limit, not its size.
    """
    with tempfile.TemporaryFile(prefix="rendao-upload-") as tmp:
        size = 0
        for chunk in _chunks(upload):
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            tmp.write(chunk)
        if size == 0:
            raise _refuse(_("The file is empty."), "empty")
        tmp.seek(0)
        yield tmp


def too_large(max_bytes: int) -> ValidationError:
    return _refuse(
        _("The file is too large: at most %(limit)s is accepted.") % {"limit": filesizeformat(max_bytes)},
        "too_large",
    )


# --- 3. the type -----------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The content type by magic bytes, or None when unknown."""
    if head.startswith(EXECUTABLE_MAGIC):
        return "application/x-executable"
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime: str = kind.mime
    return mime


def _refine_zip(fh: IO[bytes]) -> str:
    """A plain ZIP may still be an Office file whose parts are in an unusual order."""
    try:
        with zipfile.ZipFile(fh) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "application/zip"
    for content_type, parts in ZIP_REQUIRED_PARTS.items():
        if all(part in names for part in parts):
            return content_type
    return "application/zip"


def check_type(fh: IO[bytes], *, name: str, purpose: Purpose) -> str:
    fh.seek(0)
    content_type = sniff(fh.read(HEAD_BYTES))
    fh.seek(0)
    if content_type in EXECUTABLE_MIMES:
        raise _refuse(_("Programs and scripts are not accepted, whatever their name."), "executable")
    if content_type == "application/zip":
        content_type = _refine_zip(fh)
        fh.seek(0)
    if content_type not in purpose.content_types:
        raise _refuse(
            _("This kind of file is not accepted for “%(purpose)s”. Accepted: %(allowed)s.")
            % {"purpose": purpose.label, "allowed": purpose.allowed_names()},
            "type_not_allowed",
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in p.EXTENSIONS[content_type]:
        raise _refuse(
            _("The file name ends in “%(extension)s” but the file is %(kind)s.")
            % {"extension": extension or _("no extension"), "kind": p.TYPE_NAMES[content_type]},
            "extension_mismatch",
        )
    return content_type


# --- 4. the content --------------------------------------------------------------


def _too_many_pixels(purpose: Purpose) -> ValidationError:
    megapixels = purpose.max_pixels / 1_000_000
    return _refuse(
        _("The image has too many pixels: at most %(limit)s megapixels are accepted.")
        % {"limit": f"{megapixels:g}"},
        "too_many_pixels",
    )


def check_image(fh: IO[bytes], *, content_type: str, purpose: Purpose) -> tuple[IO[bytes], int, int]:
    """Decode the image within limits; return the bytes to store and the size.

    Pillow's decompression-bomb warning is made an error here, so neither a
    header that lies about its size nor a huge one gets decoded.
    """
    damaged = _refuse(_("The image is damaged or incomplete."), "damaged")
    fh.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(fh, formats=[PILLOW_FORMATS[content_type]])
            width, height = image.size
            if width * height > purpose.max_pixels:
                raise _too_many_pixels(purpose)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(purpose) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise damaged from exc
    if not purpose.strip_exif:
        fh.seek(0)
        return fh, width, height
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:  # a malformed EXIF block
        raise damaged from exc
    upright.info = {k: image.info[k] for k in KEEP_IMAGE_INFO if k in image.info}
    # Handed to the caller, who closes it once stored.
    out = tempfile.TemporaryFile(prefix="rendao-image-")  # noqa: SIM115
    try:
        _save_clean(upright, out, content_type)
    except (OSError, ValueError) as exc:
        out.close()
        raise damaged from exc
    out.seek(0)
    return out, upright.width, upright.height


def _save_clean(image: Image.Image, out: IO[bytes], content_type: str) -> None:
    """Encode `image` with no metadata but its colour profile."""
    icc = image.info.get("icc_profile")
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if content_type == p.JPEG:
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, **extra)
    elif content_type == p.PNG:
        image.save(out, "PNG", **extra)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, "WEBP", quality=90, **extra)


def _pdf_names(data: bytes) -> set[bytes]:
    found: set[bytes] = set()
    for match in _PDF_NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        found.add(name)
    return found


def _pdf_inflated_streams(data: bytes) -> Iterator[bytes]:
    """The decompressed bodies of Flate streams, within `PDF_INFLATE_BUDGET` in all."""
    budget = PDF_INFLATE_BUDGET
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            return
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            return
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(data[start:end], budget)
        except zlib.error:
            continue  # not Flate (images, fonts): nothing to read
        budget -= len(body)
        yield body


def check_pdf(fh: IO[bytes]) -> None:
    fh.seek(0)
    data = fh.read()
    if not data.startswith(b"%PDF-"):
        raise _refuse(_("The file is not a valid PDF document."), "damaged")
    names = _pdf_names(data)
    for body in _pdf_inflated_streams(data):
        if names & PDF_ACTIVE_KEYS:
            break
        names |= _pdf_names(body)
    if names & PDF_ACTIVE_KEYS:
        raise _refuse(
            _("PDF documents with scripts, embedded files or actions that start programs are not accepted."),
            "pdf_active_content",
        )
    fh.seek(0)


def _unsafe_zip_path(name: str) -> bool:
    parts = re.split(r"[\\/]", name)
    return (
        name.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", name) is not None
        or ".." in parts
        or "\x00" in name
    )


def check_zip(fh: IO[bytes], *, content_type: str, purpose: Purpose) -> None:
    """Bombs, unsafe paths, links and encryption, read from the directory alone.

    Nothing is extracted. The sizes checked are those the directory declares;
    Python's zipfile (used by openpyxl to read the file later) never returns
    more than an entry's declared size, so a lying header cannot exceed them.
    """
    limits = purpose.zip_limits
    bomb = _refuse(
        _("The file expands to far more than its size (a “zip bomb”) and is not accepted."), "zip_bomb"
    )
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(_("The file is damaged or incomplete."), "damaged") from exc
    if len(infos) > limits.max_entries:
        raise bomb
    total = 0
    for info in infos:
        if _unsafe_zip_path(info.filename):
            raise _refuse(_("The file contains entries with unsafe paths."), "zip_unsafe_path")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(_("The file contains links, which are not accepted."), "zip_link")
        if info.flag_bits & 0x1:
            raise _refuse(_("Encrypted files are not accepted."), "zip_encrypted")
        total += info.file_size
        if total > limits.max_uncompressed_bytes:
            raise bomb
        if info.file_size > ZIP_RATIO_MIN_SIZE and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise bomb
    names = {info.filename for info in infos}
    if not all(part in names for part in ZIP_REQUIRED_PARTS[content_type]):
        raise _refuse(
            _("The file is not %(kind)s.") % {"kind": p.TYPE_NAMES[content_type]}, "extension_mismatch"
        )
    fh.seek(0)


def _digest(fh: IO[bytes]) -> tuple[int, str]:
    fh.seek(0)
    sha = hashlib.sha256()
    size = 0
    while chunk := fh.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    fh.seek(0)
    return size, sha.hexdigest()


def check_content(fh: IO[bytes], *, name: str, purpose: Purpose) -> Checked:
    """Run the type and content checks on a spooled upload (see the module doc)."""
    content_type = check_type(fh, name=name, purpose=purpose)
    width: int | None = None
    height: int | None = None
    body = fh
    if content_type in p.IMAGE_TYPES:
        body, width, height = check_image(fh, content_type=content_type, purpose=purpose)
    elif content_type == p.PDF:
        check_pdf(fh)
    elif content_type in p.ZIP_TYPES:
        check_zip(fh, content_type=content_type, purpose=purpose)
    size, sha256 = _digest(body)
    return Checked(content_type=content_type, body=body, size=size, sha256=sha256, width=width, height=height)
