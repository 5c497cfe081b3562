"""Disclosures in the admin: read-only.

Every change goes through rendao.disclosure.services (approval, the log leaf and
the audit row together), and published rows are frozen at the database; the
admin shows disclosures to finance and offers no add, change or delete.
"""

from __future__ import annotations

from django.contrib import admin

from rendao.disclosure.models import Disclosure
from rendao.funds.admin import ReadOnlyAdmin


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ("title", "version", "kind", "status", "branch", "project", "published_at", "ledger_index")
    list_filter = ("status", "kind")
    list_select_related = ("branch", "project")
    search_fields = ("title", "series")
