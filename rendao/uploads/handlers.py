"""A request-wide cap on uploaded files, applied while the body is parsed.

Listed first in settings.FILE_UPLOAD_HANDLERS, so it sees every chunk of every
file of every request (pages, API, admin) before Django's own handlers keep it
in memory (up to FILE_UPLOAD_MAX_MEMORY_SIZE) or on disk. A file that passes
settings.UPLOADS_MAX_BYTES is skipped: the rest of it is read and thrown away,
so neither memory nor disk holds more than the cap, and the request is marked
so that the view can say "too large" rather than "no file". Each purpose's own,
lower limit is checked again while the file is copied (rendao.uploads.validation).

In production the web server refuses bodies over its own limit first (nginx's
client_max_body_size, docs/deployment.md), so huge bodies never reach Python.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

# Set on the request: the names of the file fields that were skipped as too large.
TOO_LARGE_ATTR = "_rendao_uploads_too_large"


class SizeLimitUploadHandler(FileUploadHandler):
    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.UPLOADS_MAX_BYTES:
            if self.request is not None:
                skipped: set[str] = getattr(self.request, TOO_LARGE_ATTR, set())
                skipped.add(self.field_name)
                setattr(self.request, TOO_LARGE_ATTR, skipped)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        # The next handler builds the file object.
        return None


def skipped_as_too_large(request: HttpRequest, field_name: str) -> bool:
    return field_name in getattr(request, TOO_LARGE_ATTR, set())
