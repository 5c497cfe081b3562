"""Reads of the staff donation pages and API: always through the user's finance scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from rendao.core.models import Branch
from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope, in_scope, scope_filter
from rendao.funds.models import Donation, FundraisingProject, JournalLine, NotificationRejection

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User


def donations_for_staff(
    *,
    user: User | AnonymousUser,
    project: FundraisingProject | None = None,
    status: str = "",
    channel: str = "",
    flagged: bool = False,
) -> QuerySet[Donation]:
    """Donations in the user's FINANCE_VIEW scope, newest first, filtered as asked."""
    qs = scope_filter(
        Donation.objects.select_related("project", "receipt"), user=user, perm=Perm.FINANCE_VIEW
    )
    if project is not None:
        qs = qs.filter(project=project)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if flagged:
        qs = qs.filter(refund_flagged=True)
    return qs.order_by("-created_at", "-id")


def projects_for_staff(*, user: User | AnonymousUser) -> QuerySet[FundraisingProject]:
    return scope_filter(FundraisingProject.objects.all(), user=user, perm=Perm.FINANCE_VIEW).order_by(
        "-created_at", "-id"
    )


def donation_get_for_staff(*, user: User | AnonymousUser, out_trade_no: str) -> Donation:
    """One donation in the user's FINANCE_VIEW scope, or Http404 (out of scope looks absent)."""
    qs = Donation.objects.select_related("project", "branch", "co_initiator", "journal_entry")
    return get_in_scope(qs, user=user, perm=Perm.FINANCE_VIEW, out_trade_no=out_trade_no)


def donation_detail(donation: Donation) -> dict[str, Any]:
    """What the detail page shows besides the donation: its journal lines, receipt and refunds."""
    refunds = list(donation.refunds.select_related("requested_by").order_by("created_at", "id"))
    entry_ids = [e for e in [donation.journal_entry_id, *(r.journal_entry_id for r in refunds)] if e]
    lines = list(
        JournalLine.objects.filter(entry_id__in=entry_ids)
        .select_related("account", "entry")
        .order_by("entry_id", "id")
    )
    receipt = getattr(donation, "receipt", None)
    return {"refunds": refunds, "journal_lines": lines, "receipt": receipt}


def society(user: User | AnonymousUser) -> Branch | None:
    """The city society (the root branch) if the user holds FINANCE_VIEW there, else None."""
    root: Branch | None = Branch.objects.filter(depth=1).order_by("path").first()
    if root is None or not in_scope(user, Perm.FINANCE_VIEW, root):
        return None
    return root


def rejections_for_staff() -> QuerySet[NotificationRejection]:
    # Callers check `society(user)` first: see views_donations.payment_rejections.
    return NotificationRejection.objects.order_by("-at", "-id")
