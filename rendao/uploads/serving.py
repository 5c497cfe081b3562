"""The HTTP response that carries an attachment's bytes, for pages and the API.

Whatever the content, the browser is told not to guess its type (nosniff), not
to run anything in it (a CSP sandbox with nothing allowed but the image itself),
and not to keep it in shared caches. Only images are shown inline; everything
else downloads, under its cleaned original name (RFC 6266: an ASCII fallback in
`filename`, the exact name in `filename*`).

settings.UPLOADS_SENDFILE hands the body to the web server in production:
"x-accel-redirect" (nginx: an `internal` location at UPLOADS_SENDFILE_PREFIX,
docs/deployment.md) or "x-sendfile" (Apache mod_xsendfile, lighttpd: the file's
absolute path); empty streams it from Django with FileResponse.
"""

from __future__ import annotations

import os
import re
import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseBase

from rendao.uploads.models import Attachment
from rendao.uploads.storage import uploads_storage

SENDFILE_MODES = ("", "x-accel-redirect", "x-sendfile")
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()+-]")


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_ASCII.sub("_", plain)


def content_disposition(name: str, *, inline: bool) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''exact` (RFC 6266 / 8187)."""
    stem, ext = os.path.splitext(name)
    ascii_stem = _ascii(stem).strip(" ._")
    # A name in Chinese alone keeps a readable fallback and its extension.
    if not re.search(r"[A-Za-z0-9]", ascii_stem):
        ascii_stem = "attachment"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_stem}{_ascii(ext)}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(attachment: Attachment, *, download: bool = False) -> HttpResponseBase:
    inline = attachment.is_image and not download
    mode = settings.UPLOADS_SENDFILE
    response: HttpResponseBase
    if mode == "x-accel-redirect":
        response = HttpResponse(content_type=attachment.content_type)
        prefix = settings.UPLOADS_SENDFILE_PREFIX.rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(attachment.storage_name)}"
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=attachment.content_type)
        response["X-Sendfile"] = uploads_storage().path(attachment.storage_name)
    else:
        response = FileResponse(
            uploads_storage().open(attachment.storage_name, "rb"), content_type=attachment.content_type
        )
    response["Content-Disposition"] = content_disposition(attachment.original_name, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
