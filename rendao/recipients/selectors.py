"""Reads of recipient institutions and needs, for staff, representatives and the public.

Staff reach institutions only within their RECIPIENTS_MANAGE scope (out of
scope is a 404). A representative reaches only the institutions they speak
for. The public sees open needs with the institution's name and kind: no
contact person, no mobile number, no representative.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope, scope_filter
from rendao.recipients.models import Institution, InstitutionMember, Need, NeedStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import User

logger = logging.getLogger("rendao.recipients")

PERM = Perm.RECIPIENTS_MANAGE
# How many past payments and orders the staff detail page lists.
DETAIL_ROWS = 50


def institutions_for_staff(
    *, user: User | AnonymousUser, kind: str = "", related_party: bool | None = None, q: str = ""
) -> QuerySet[Institution]:
    qs = scope_filter(Institution.objects.select_related("branch"), user=user, perm=PERM)
    if kind:
        qs = qs.filter(kind=kind)
    if related_party is not None:
        qs = qs.filter(related_party=related_party)
    if q:
        qs = qs.filter(name__icontains=q[:100])
    return qs.order_by("name", "id")


def institution_get_for_staff(*, user: User | AnonymousUser, pk: int) -> Institution:
    return get_in_scope(Institution.objects.select_related("branch"), user=user, perm=PERM, pk=pk)


def institution_members(*, institution: Institution) -> list[InstitutionMember]:
    return list(institution.members.select_related("user").order_by("added_at", "id"))


def institution_needs(*, institution: Institution) -> list[Need]:
    return list(institution.needs.order_by("-published_at", "-id")[:DETAIL_ROWS])


def institution_disbursements(*, institution: Institution) -> list[Any]:
    """Money paid (or being paid) to the institution, newest first; read-only."""
    from rendao.disbursements.models import Disbursement

    return list(
        Disbursement.objects.filter(payee=institution)
        .select_related("project")
        .order_by("-requested_at", "-id")[:DETAIL_ROWS]
    )


def institution_orders(*, institution: Institution) -> list[Any]:
    """Distribution orders to the institution, newest first; read-only."""
    from rendao.goods.models import DistributionOrder

    return list(
        DistributionOrder.objects.filter(recipient=institution)
        .select_related("project")
        .order_by("-requested_at", "-id")[:DETAIL_ROWS]
    )


# --- representatives --------------------------------------------------------------


def institutions_of_representative(*, user: User) -> list[Institution]:
    return list(
        Institution.objects.filter(members__user=user, is_active=True)
        .select_related("branch")
        .order_by("name")
    )


def institution_get_for_representative(*, user: User, pk: int) -> Institution:
    found = Institution.objects.filter(pk=pk, members__user=user, is_active=True).first()
    if found is None:
        raise Http404(_("Not found."))
    return found


def need_get_for_representative(*, user: User, pk: int) -> Need:
    found = (
        Need.objects.select_related("institution", "institution__branch")
        .filter(pk=pk, institution__members__user=user)
        .first()
    )
    if found is None:
        raise Http404(_("Not found."))
    return found


@dataclass(frozen=True)
class AwaitingSignoff:
    """Something sent to one of the user's institutions that they have still to confirm."""

    kind: str  # "money" or "goods"
    number: str
    institution: str
    amount_fen: int
    purpose: str
    url: str  # "" when the sign-off link could not be made


def _link(maker: Any, obj: Any) -> str:
    if maker is None:
        return ""
    try:
        return str(maker(obj))
    except Exception:  # the link is a convenience: the item is still listed without it
        logger.exception("sign-off link for %s could not be made", type(obj).__name__)
        return ""


def awaiting_signoff(*, user: User) -> list[AwaitingSignoff]:
    """Disbursements paid and orders issued to the user's institutions, not yet confirmed.

    The sign-off links come from the disbursements and goods apps; if those are
    not available the items are still listed, without a link.
    """
    from rendao.disbursements.models import Disbursement
    from rendao.disbursements.models import Status as DStatus
    from rendao.goods.models import DistributionOrder, OrderStatus

    # Written by the disbursements and goods work; imported late so that this page
    # keeps working (items without a link) while either is not there yet.
    disbursement_link: Any = None
    order_link: Any = None
    try:
        from rendao.disbursements.services import signoff_url as disbursement_link
    except ImportError:
        logger.warning("rendao.disbursements.services.signoff_url is not available")
    try:
        from rendao.goods.distribution import signoff_url as order_link
    except ImportError:
        logger.warning("rendao.goods.distribution.signoff_url is not available")

    mine = InstitutionMember.objects.filter(user=user).values("institution_id")
    items: list[AwaitingSignoff] = []
    for d in Disbursement.objects.filter(payee_id__in=mine, status=DStatus.PAID).select_related("payee"):
        items.append(
            AwaitingSignoff(
                kind="money",
                number=d.number,
                institution=d.payee.name,
                amount_fen=d.paid_fen,
                purpose=d.purpose,
                url=_link(disbursement_link, d),
            )
        )
    for o in DistributionOrder.objects.filter(
        recipient_id__in=mine, status=OrderStatus.ISSUED
    ).select_related("recipient"):
        items.append(
            AwaitingSignoff(
                kind="goods",
                number=o.number,
                institution=o.recipient.name,
                amount_fen=o.value_fen,
                purpose=o.purpose,
                url=_link(order_link, o),
            )
        )
    return items


# --- public -------------------------------------------------------------------------


def needs_public() -> QuerySet[Need]:
    """Open needs of active institutions whose deadline has not passed, soonest first."""
    today = timezone.localdate()
    return (
        Need.objects.filter(status=NeedStatus.OPEN, deadline__gte=today, institution__is_active=True)
        .select_related("institution")
        .only(
            "id",
            "item_name",
            "specification",
            "unit",
            "quantity",
            "quantity_received",
            "deadline",
            "purpose",
            "published_at",
            "institution__id",
            "institution__name",
            "institution__kind",
        )
        .order_by("deadline", "id")
    )


def needs_public_for_area(*, branch_path: str, limit: int = 5) -> list[Need]:
    """Open needs of institutions in a branch's subtree (a project's area), soonest first."""
    return list(needs_public().filter(Q(institution__branch__path__startswith=branch_path))[:limit])
