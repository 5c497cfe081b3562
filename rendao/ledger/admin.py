"""Read-only admin views of the log: it is append-only, corrections are new entries."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.core.admin import SystemModelAdmin
from rendao.ledger.models import Checkpoint, Cosignature, Entry


class ReadOnlyAdmin(SystemModelAdmin):
    # The log is public anyway; the admin only lets operators look at it next to the rest.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "created_at"]
    list_filter = ["kind"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "size", "created_at"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ["checkpoint", "witness", "received_at"]
