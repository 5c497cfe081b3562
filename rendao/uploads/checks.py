"""Start-up checks for uploads: storage and web-server hand-off configured coherently."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from rendao.uploads.purposes import all_purposes
from rendao.uploads.serving import SENDFILE_MODES


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def _package_missing(name: str) -> bool:
    return importlib.util.find_spec(name) is None


@register()
def check_uploads(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    s3 = bool(settings.UPLOADS_S3_BUCKET)
    if s3 and (_package_missing("storages") or _package_missing("boto3")):
        found.append(
            Error(
                "RENDAO_UPLOADS_S3_BUCKET is set but django-storages / boto3 are not installed.",
                hint='pip install -c constraints.txt -e ".[s3]"',
                id="rendao.E401",
            )
        )
    if bool(settings.UPLOADS_S3_ACCESS_KEY_ID) != bool(settings.UPLOADS_S3_SECRET_ACCESS_KEY):
        found.append(
            Error(
                "Only one of RENDAO_UPLOADS_S3_ACCESS_KEY_ID and RENDAO_UPLOADS_S3_SECRET_ACCESS_KEY is set.",
                hint="Set both, or neither to use the machine's own credentials (instance role).",
                id="rendao.E402",
            )
        )
    if settings.UPLOADS_SENDFILE not in SENDFILE_MODES:
        found.append(
            Error(
                f"RENDAO_UPLOADS_SENDFILE is {settings.UPLOADS_SENDFILE!r}.",
                hint="Use x-accel-redirect (nginx), x-sendfile (Apache, lighttpd) or leave it empty.",
                id="rendao.E403",
            )
        )
    elif settings.UPLOADS_SENDFILE and s3:
        found.append(
            Error(
                "RENDAO_UPLOADS_SENDFILE hands local files to the web server, but uploads are in S3.",
                hint="Leave RENDAO_UPLOADS_SENDFILE empty when RENDAO_UPLOADS_S3_BUCKET is set.",
                id="rendao.E404",
            )
        )
    prefix = settings.UPLOADS_SENDFILE_PREFIX
    if settings.UPLOADS_SENDFILE == "x-accel-redirect" and not prefix.startswith("/"):
        found.append(
            Error(
                "RENDAO_UPLOADS_SENDFILE_PREFIX must be a path starting with '/'.",
                id="rendao.E405",
            )
        )
    if not s3:
        uploads = Path(settings.UPLOADS_DIR)
        served = [Path(settings.STATIC_ROOT), *[Path(d) for d in settings.STATICFILES_DIRS]]
        if any(_inside(uploads, d) or _inside(d, uploads) for d in served):
            found.append(
                Error(
                    "RENDAO_UPLOADS_DIR overlaps a static files directory, which the web server serves.",
                    hint="Keep uploads in their own directory outside STATIC_ROOT.",
                    id="rendao.E406",
                )
            )
    for purpose in all_purposes():
        if purpose.max_bytes > settings.UPLOADS_MAX_BYTES:
            found.append(
                Warning(
                    f"Upload purpose {purpose.code!r} allows {purpose.max_bytes} bytes, more than "
                    f"RENDAO_UPLOADS_MAX_BYTES ({settings.UPLOADS_MAX_BYTES}): such files are refused.",
                    id="rendao.W401",
                )
            )
    return found
