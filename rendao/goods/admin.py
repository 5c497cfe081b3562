"""Goods in the admin: read-only.

Stock changes only through rendao.goods.stock and moves are append-only at the
database; intakes, receipts and counts are made by their services (with their
log entries and audit rows). The admin shows them and offers no add, change or
delete. Sealed donor fields are not listed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rendao.core.admin import SystemModelAdmin
from rendao.core.permissions import Perm
from rendao.goods.models import GoodsReceipt, Intake, Lot, Move, Stock, StockTake, Warehouse


class ReadOnlyAdmin(SystemModelAdmin):
    required_perm = Perm.GOODS_VIEW

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Warehouse)
class WarehouseAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "branch", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("branch",)
    search_fields = ("code", "name")


@admin.register(Intake)
class IntakeAdmin(ReadOnlyAdmin):
    list_display = ("number", "received_on", "warehouse", "donor_kind", "public_name", "value_fen")
    list_select_related = ("warehouse",)
    search_fields = ("number",)
    fields = (
        "number",
        "branch",
        "warehouse",
        "project",
        "need",
        "donor_kind",
        "organisation_name",
        "public_name",
        "commitment",
        "receipt_wanted",
        "value_fen",
        "received_on",
        "received_by",
        "ledger_index",
    )


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "item_name",
        "unit",
        "expires_on",
        "quantity_received",
        "quantity_on_hand",
        "quantity_issued",
        "quantity_written_off",
    )
    search_fields = ("number", "item_name")


@admin.register(Stock)
class StockAdmin(ReadOnlyAdmin):
    list_display = ("lot", "warehouse", "quantity")
    list_select_related = ("lot", "warehouse")


@admin.register(Move)
class MoveAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "kind", "lot", "from_warehouse", "to_warehouse", "quantity", "ledger_index")
    list_filter = ("kind",)
    list_select_related = ("lot", "from_warehouse", "to_warehouse")


@admin.register(GoodsReceipt)
class GoodsReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "issued_on", "organisation", "value_fen")
    search_fields = ("number",)
    exclude = ("check_code",)


@admin.register(StockTake)
class StockTakeAdmin(ReadOnlyAdmin):
    list_display = ("id", "warehouse", "status", "started_at", "closed_at", "ledger_index")
    list_filter = ("status",)
