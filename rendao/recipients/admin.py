"""Recipient institutions in the admin: read-only.

Institutions, representatives and needs change only through
rendao.recipients.services (permission, validation, audit); the staff pages are
where that happens. The contact mobile is not shown here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.core.admin import SystemModelAdmin
from rendao.core.permissions import Perm
from rendao.recipients.models import Institution, Need


class _ReadOnly(SystemModelAdmin):
    required_perm = Perm.RECIPIENTS_MANAGE

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Institution)
class InstitutionAdmin(_ReadOnly):
    list_display = ("name", "kind", "branch", "related_party", "is_active")
    list_filter = ("kind", "related_party", "is_active")
    list_select_related = ("branch",)
    search_fields = ("name",)
    exclude = ("contact_mobile", "contact_mobile_index")


@admin.register(Need)
class NeedAdmin(_ReadOnly):
    list_display = ("item_name", "quantity", "unit", "institution", "deadline", "status")
    list_filter = ("status",)
    list_select_related = ("institution",)
