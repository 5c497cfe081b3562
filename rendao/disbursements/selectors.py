"""Reads of disbursements, and the access functions that fetch one for a user.

Staff read within their FINANCE_VIEW scope (out of scope looks absent: 404);
the payee's representatives reach a disbursement only through its signed link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rendao.core.permissions import Perm
from rendao.core.scope import get_in_scope, has_perm_anywhere, scope_filter
from rendao.disbursements.models import Disbursement, Status
from rendao.disbursements.services import FUND_KINDS, is_representative, signoff_token_read
from rendao.funds.models import Account
from rendao.recipients.models import Institution

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import Branch, User
    from rendao.funds.models import FundraisingProject

# What a project's public use summary lists: money that has left the fund.
PAID_STATUSES = (Status.PARTLY_PAID, Status.PAID, Status.SIGNED_OFF, Status.DISPUTED)


def disbursements_for_staff(
    *,
    user: User | AnonymousUser,
    status: str = "",
    project: FundraisingProject | None = None,
    branch: Branch | None = None,
) -> QuerySet[Disbursement]:
    """Disbursements in the user's FINANCE_VIEW scope, newest first, optionally filtered."""
    qs = scope_filter(
        Disbursement.objects.select_related("branch", "payee", "project", "fund"),
        user=user,
        perm=Perm.FINANCE_VIEW,
    )
    if status:
        qs = qs.filter(status=status)
    if project is not None:
        qs = qs.filter(project=project)
    if branch is not None:
        # The branch's whole subtree, as scope works.
        qs = qs.filter(branch__path__startswith=branch.path)
    return qs.order_by("-requested_at", "-id")


def disbursement_get_for_staff(*, user: User | AnonymousUser, number: str) -> Disbursement:
    """The disbursement `number` if the user may read it; 403 for non-finance, 404 out of scope."""
    if not has_perm_anywhere(user, Perm.FINANCE_VIEW):
        raise PermissionDenied(_("Your roles do not let you see disbursements."))
    qs = Disbursement.objects.select_related(
        "branch", "payee", "project", "fund", "requested_by", "approval_request"
    )
    return get_in_scope(qs, user=user, perm=Perm.FINANCE_VIEW, number=number)


def disbursement_get_for_payee(*, user: User | AnonymousUser, token: str) -> Disbursement:
    """The disbursement of a sign-off link, for one of the payee's representatives.

    A forged or expired link is a 404; a valid link opened by anyone else a 403
    (the link is the payee's, so saying so leaks nothing the holder lacks).
    """
    try:
        number, payee_id = signoff_token_read(token)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    d = (
        Disbursement.objects.select_related("branch", "payee", "project")
        .filter(number=number, payee_id=payee_id)
        .first()
    )
    if d is None:
        raise Http404(_("Not found."))
    if not user.is_authenticated or not is_representative(user, d):
        raise PermissionDenied(_("Only the payee's representatives can sign this."))
    return d


def funds_for_request(*, user: User | AnonymousUser) -> QuerySet[Account]:
    """Open project and general funds the user may request money out of."""
    return scope_filter(
        Account.objects.filter(kind__in=FUND_KINDS, is_active=True).select_related("branch"),
        user=user,
        perm=Perm.FINANCE_MANAGE,
    ).order_by("code")


def payees_for_request(*, user: User | AnonymousUser) -> QuerySet[Institution]:
    """Active institutions of the branches where the user manages finance."""
    return scope_filter(
        Institution.objects.filter(is_active=True).select_related("branch"),
        user=user,
        perm=Perm.FINANCE_MANAGE,
    ).order_by("name")


def disbursements_for_project(project: FundraisingProject) -> list[dict[str, Any]]:
    """Money paid out of a project's fund, for its public pages and use summary: no personal data."""
    rows = (
        Disbursement.objects.filter(project=project, status__in=[*PAID_STATUSES])
        .select_related("payee")
        .order_by("requested_at", "id")
    )
    return [
        {
            "number": d.number,
            "payee": d.payee.name,
            "category": d.category,
            "purpose": d.purpose,
            "amount_fen": d.amount_fen,
            "paid_fen": d.paid_fen,
            "status": d.status,
            "signed_off": d.status == Status.SIGNED_OFF,
            "signed_off_at": d.signed_off_at,
            "related_party": d.related_party,
        }
        for d in rows
    ]


def disbursement_use_summary(project: FundraisingProject) -> dict[str, int]:
    """Totals of a project's disbursements: paid and signed off (fen), and how many."""
    rows = disbursements_for_project(project)
    return {
        "count": len(rows),
        "paid_fen": sum(int(r["paid_fen"]) for r in rows),
        "signed_off_fen": sum(int(r["paid_fen"]) for r in rows if r["signed_off"]),
    }
