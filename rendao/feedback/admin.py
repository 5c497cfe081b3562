"""Use reports in the admin: read-only (they are written by the disbursements and goods services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.core.admin import SystemModelAdmin
from rendao.core.permissions import Perm
from rendao.feedback.models import UseReport


@admin.register(UseReport)
class UseReportAdmin(SystemModelAdmin):
    required_perm = Perm.FINANCE_VIEW
    list_display = ("source", "project", "kind", "amount_fen", "recipient", "ledger_index", "notified_at")
    list_filter = ("kind",)
    list_select_related = ("project",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
