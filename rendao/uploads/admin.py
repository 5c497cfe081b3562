"""Attachments in the system configuration site: read-only descriptions.

The admin never shows or serves the bytes, and cannot add or change rows: files
enter only through `attachment_create`, which checks them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.core.admin import SystemModelAdmin
from rendao.uploads.models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(SystemModelAdmin):
    list_display = ("id", "purpose", "branch", "content_type", "size", "created_at")
    list_filter = ("purpose", "content_type")
    # The file name is personal data: not listed, not searchable.
    exclude = ("original_name",)
    readonly_fields = (
        "id",
        "purpose",
        "branch",
        "owner",
        "content_type",
        "size",
        "sha256",
        "width",
        "height",
        "storage_name",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
