"""System-configuration views of consent texts and the records built on them.

Consent texts can be added (a new version) but a saved text is read-only: people
consented to its exact words. Consents and data requests are records, changed
only by the services, so they are read-only here; no personal value is listed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.privacy.models import Consent, ConsentText, DataRequest


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("purpose", "language", "version", "title", "published_at")
    list_filter = ("purpose", "language")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A new wording is a new version; the old one stays as consented to.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("id", "subject_id", "purpose", "granted_at", "withdrawn_at")
    list_filter = ("purpose",)
    fields = (
        "subject",
        "purpose",
        "text",
        "granted_at",
        "withdrawn_at",
        "withdrawn_by",
        "guardian",
        "relation",
    )


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "subject_id", "kind", "field", "status", "created_at", "closed_at")
    list_filter = ("kind", "status")
    # The proposed value and the note are personal data: handled on the staff pages.
    fields = ("subject", "kind", "field", "status", "created_at", "closed_at")
