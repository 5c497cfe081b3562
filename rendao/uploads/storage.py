"""Where attachment bytes live: a private directory, or S3-compatible object storage.

Local files sit under settings.UPLOADS_DIR (DATA_DIR/uploads by default), which
is outside STATIC_ROOT and every directory a web server serves or executes
from, with owner-only permissions, under random names sharded two levels deep
(`3f/a2/3fa2…`) and without an extension, so nothing about a file's name or kind
is visible on disk. There is no URL for them: the storage refuses `url()`, and
the only way out is the access-checked view (rendao.uploads.views).

With RENDAO_UPLOADS_S3_BUCKET set, django-storages' S3 backend is used instead
(the optional "s3" extra), with private objects; a system check stops start-up
if the package is missing (rendao.uploads.checks).
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.core.signals import setting_changed
from django.dispatch import receiver

S3_BACKEND = "storages.backends.s3.S3Storage"
SETTINGS_THAT_CHOOSE = frozenset(
    {
        "UPLOADS_DIR",
        "UPLOADS_S3_BUCKET",
        "UPLOADS_S3_ENDPOINT_URL",
        "UPLOADS_S3_REGION",
        "UPLOADS_S3_ACCESS_KEY_ID",
        "UPLOADS_S3_SECRET_ACCESS_KEY",
        "UPLOADS_S3_LOCATION",
    }
)


class UploadsFileSystemStorage(FileSystemStorage):
    """Private local files: owner-only modes, no public URL."""

    def __init__(self, location: str | None = None) -> None:
        super().__init__(
            location=location or str(settings.UPLOADS_DIR),
            base_url=None,
            file_permissions_mode=0o600,
            directory_permissions_mode=0o700,
        )

    def url(self, name: str | None) -> str:
        raise NotImplementedError("attachments are served only through the access-checked view")


def new_storage_name() -> str:
    """A random name sharded by its first bytes, so no directory grows huge."""
    token = uuid.uuid4().hex
    return f"{token[:2]}/{token[2:4]}/{token}"


def s3_options() -> dict[str, Any]:
    """Options for django-storages' S3Storage from our settings."""
    options: dict[str, Any] = {
        "bucket_name": settings.UPLOADS_S3_BUCKET,
        "location": settings.UPLOADS_S3_LOCATION,
        # Objects are private; reads go through our view, never a public link.
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }
    if settings.UPLOADS_S3_ENDPOINT_URL:
        options["endpoint_url"] = settings.UPLOADS_S3_ENDPOINT_URL
    if settings.UPLOADS_S3_REGION:
        options["region_name"] = settings.UPLOADS_S3_REGION
    if settings.UPLOADS_S3_ACCESS_KEY_ID:
        options["access_key"] = settings.UPLOADS_S3_ACCESS_KEY_ID
        options["secret_key"] = settings.UPLOADS_S3_SECRET_ACCESS_KEY
    return options


def uses_s3() -> bool:
    return bool(settings.UPLOADS_S3_BUCKET)


@cache
def uploads_storage() -> Storage:
    """The storage holding attachments (one instance per process)."""
    if uses_s3():
        from django.utils.module_loading import import_string

        backend = import_string(S3_BACKEND)
        storage: Storage = backend(**s3_options())
        return storage
    return UploadsFileSystemStorage()


@receiver(setting_changed)
def _forget_storage(*, setting: str, **kwargs: Any) -> None:
    # Tests point the uploads at a fresh directory with override_settings.
    if setting in SETTINGS_THAT_CHOOSE:
        uploads_storage.cache_clear()
