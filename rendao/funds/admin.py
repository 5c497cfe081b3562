"""Fund accounts and the journal in the admin: read-only.

Balances change only through `journal_post`, and journal rows are append-only
at the database, so the admin shows them and offers no add, change or delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.core.admin import SystemModelAdmin
from rendao.core.permissions import Perm
from rendao.funds.models import Account, JournalEntry, JournalLine


class ReadOnlyAdmin(SystemModelAdmin):
    # Balances are business data: shown to finance, not to the system
    # administrator (who holds no business permission).
    required_perm = Perm.FINANCE_VIEW

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "branch", "balance_fen", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("branch",)
    search_fields = ("code", "name")


class JournalLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = JournalLine
    fields = ("account", "debit_fen", "credit_fen")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "posted_at", "reference", "reason", "reverses")
    search_fields = ("reference",)
    inlines = (JournalLineInline,)
