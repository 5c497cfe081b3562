"""The workbench inbox provider: "N approvals waiting for your decision"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Min
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rendao.approvals.selectors import pending_for
from rendao.core import inbox

if TYPE_CHECKING:
    from rendao.core.models import Branch, User


@inbox.register("approvals.pending")
def approvals_waiting(user: User, branch: Branch) -> list[inbox.InboxItem]:
    """Items in the current branch's subtree whose current step the user may decide now.

    One aggregate query (plus the user's memberships, read once per request).
    """
    totals = (
        pending_for(user)
        .filter(branch__path__startswith=branch.path)
        .order_by()
        .aggregate(n=Count("pk"), due=Min("current_due_at"))
    )
    if not totals["n"]:
        return []
    return [
        inbox.InboxItem(
            title=_("Approvals waiting for your decision"),
            url=reverse("approvals:inbox"),
            count=totals["n"],
            due=totals["due"],
        )
    ]
