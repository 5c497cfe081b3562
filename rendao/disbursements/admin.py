"""Disbursements in the admin: read-only.

Every change goes through rendao.disbursements.services (reservation, journal,
log leaf and audit row together); events and sign-offs are append-only at the
database. The admin shows them to finance and offers no add, change or delete.
"""

from __future__ import annotations

from django.contrib import admin

from rendao.disbursements.models import Disbursement, DisbursementEvent, Payment, Signoff
from rendao.funds.admin import ReadOnlyAdmin


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "status",
        "branch",
        "payee",
        "amount_fen",
        "paid_fen",
        "category",
        "requested_at",
    )
    list_filter = ("status", "category", "related_party")
    list_select_related = ("branch", "payee")
    search_fields = ("number", "purpose", "payee__name")


@admin.register(DisbursementEvent)
class DisbursementEventAdmin(ReadOnlyAdmin):
    list_display = ("disbursement", "from_status", "to_status", "actor", "ledger_index", "at")
    list_select_related = ("disbursement", "actor")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("bank_reference", "disbursement", "amount_fen", "paid_on", "ledger_index")
    list_select_related = ("disbursement",)
    search_fields = ("bank_reference", "disbursement__number")


@admin.register(Signoff)
class SignoffAdmin(ReadOnlyAdmin):
    list_display = ("disbursement", "kind", "received_fen", "by_staff_upload", "ledger_index", "at")
    list_select_related = ("disbursement",)
