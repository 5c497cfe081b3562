"""Reads of donor feedback: how a project's money and goods were used, and a donor's record.

Everything here is what a donor (or, for `uses_for_project`, anyone) may see:
use reports name an institution or a category, never a person, and carry the
log entry that proves them. A donation is reached only through its follow token
(a capability) or the signed-in donor's own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet, Sum

from rendao.feedback.models import UseKind, UseReport
from rendao.funds.models import Account, Donation, FundraisingProject, Receipt

# The follow page and the record list at most this many uses (newest first); the
# project's full list is paginated through the API.
USES_SHOWN = 200
MIN_TOKEN = 20


def uses_for_project(project: FundraisingProject, since: datetime | None = None) -> QuerySet[UseReport]:
    """The project's uses, newest first (paginate it); `since`: only those at or after it."""
    qs = UseReport.objects.filter(project=project)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    return qs.only(
        "id",
        "project_id",
        "kind",
        "amount_fen",
        "items",
        "recipient",
        "purpose",
        "ledger_index",
        "occurred_at",
    ).order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class Totals:
    """A project's money at a glance, in fen."""

    raised_fen: int  # net of refunds (the project's own counter)
    used_fen: int  # money paid out, as reported to donors
    goods_value_fen: int  # estimated value of goods handed over or written off
    balance_fen: int | None  # what the restricted fund still holds; None without one


def project_totals(project: FundraisingProject) -> Totals:
    sums = {
        row["kind"]: row["total"] or 0
        for row in UseReport.objects.filter(project=project).values("kind").annotate(total=Sum("amount_fen"))
    }
    fund = (
        Account.objects.filter(project=project, kind=Account.Kind.RESTRICTED_FUND)
        .only("balance_fen")
        .order_by("id")
        .first()
    )
    return Totals(
        raised_fen=project.raised_fen,
        used_fen=int(sums.get(UseKind.MONEY, 0)),
        goods_value_fen=int(sums.get(UseKind.GOODS, 0)) + int(sums.get(UseKind.WRITE_OFF, 0)),
        balance_fen=fund.balance_fen if fund is not None else None,
    )


@dataclass(frozen=True)
class DonationUses:
    """A donation, its project, the uses since it was paid, and the project's totals."""

    donation: Donation
    project: FundraisingProject
    receipt: Receipt | None
    uses: list[UseReport]
    more: bool  # more uses than USES_SHOWN
    totals: Totals


def donation_by_token(token: str) -> Donation | None:
    if len(token or "") < MIN_TOKEN:
        return None
    return (
        Donation.objects.select_related("project", "project__branch", "co_initiator")
        .filter(follow_token=token)
        .first()
    )


def donation_uses(donation: Donation) -> DonationUses:
    """What the donor of `donation` may read about how their project's money and goods were used.

    Uses count from the payment on (nothing before it was their money); an
    unpaid order has none.
    """
    project = donation.project
    uses: list[UseReport] = []
    if donation.is_paid and donation.paid_at is not None:
        uses = list(uses_for_project(project, since=donation.paid_at)[: USES_SHOWN + 1])
    return DonationUses(
        donation=donation,
        project=project,
        receipt=Receipt.objects.filter(donation=donation).first(),
        uses=uses[:USES_SHOWN],
        more=len(uses) > USES_SHOWN,
        totals=project_totals(project),
    )


# How many recent uses the "my donations" page lists across the donor's projects.
MY_USES_SHOWN = 20


def uses_for_donations(donations: list[Donation]) -> list[UseReport]:
    """Recent uses of the projects of `donations`, each since the first paid gift to it (one query)."""
    since: dict[int, datetime] = {}
    for d in donations:
        if d.is_paid and d.paid_at is not None:
            first = since.get(d.project_id)
            since[d.project_id] = d.paid_at if first is None else min(first, d.paid_at)
    if not since:
        return []
    match = Q(pk__in=[])
    for project_id, at in since.items():
        match |= Q(project_id=project_id, occurred_at__gte=at)
    return list(
        UseReport.objects.filter(match)
        .select_related("project")
        .only(
            "id",
            "kind",
            "amount_fen",
            "items",
            "recipient",
            "purpose",
            "ledger_index",
            "occurred_at",
            "project__id",
            "project__title",
        )
        .order_by("-occurred_at", "-id")[:MY_USES_SHOWN]
    )
