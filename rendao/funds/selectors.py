"""Public reads of online giving: the project list and page, partner pages, "my donations".

Everything here is what anyone may see. A project is public only once it has
been opened (open, closed or with its final report published): drafts and plans
still in approval or merely filed are not, and their pages are 404. Donors
appear only as `public_name` (masked, or 爱心人士); the sealed name and mobile
number are never read here.

The project page reads a constant number of rows however many donations there
are: the progress comes from the project's own counters (raised_fen,
donation_count, kept in the payment transaction) and the recent list from the
funds_donation_recent index (project, status, -paid_at) with a LIMIT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, F, Q, Sum

from rendao.core.models import User
from rendao.funds.models import CoInitiator, Donation, DonationStatus, FundraisingProject, ProjectStatus

S = ProjectStatus
# Statuses whose page is public (Charity Law Art 25: the public sees what it gives to).
PUBLIC_STATUSES = (S.OPEN, S.CLOSED, S.FINAL_REPORT_PUBLISHED)
# Paid gifts that count for the public: paid, or paid and partly refunded.
COUNTED = (DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED)
RECENT_DONATIONS = 20
# Closed projects stay on the giving list this long (marked closed), so a donor
# arriving from an old share still finds them; older ones only by their link.
RECENTLY_CLOSED_DAYS = 90
MY_DONATIONS_MAX = 100


def progress_percent(raised_fen: int, target_fen: int) -> int:
    """Whole percent of the target reached, 0–100 (integer arithmetic; over target shows 100)."""
    if target_fen <= 0 or raised_fen <= 0:
        return 0
    return min(100, raised_fen * 100 // target_fen)


def project_accepts_donations(project: FundraisingProject, *, today: date) -> bool:
    """Whether the donate form may be offered (the service checks the same again)."""
    return project.status == S.OPEN and project.start_date <= today <= project.end_date


@dataclass(frozen=True)
class PublicProject:
    """A project as the public list shows it."""

    project: FundraisingProject
    percent: int
    accepting: bool


def projects_public_list(*, today: date) -> list[PublicProject]:
    """Open projects first (newest opened first), then recently closed ones; one query."""
    since = today - timedelta(days=RECENTLY_CLOSED_DAYS)
    rows = (
        FundraisingProject.objects.select_related("branch")
        .filter(Q(status=S.OPEN) | Q(status__in=(S.CLOSED, S.FINAL_REPORT_PUBLISHED), closed_on__gte=since))
        .order_by(F("closed_on").desc(nulls_first=True), "-opened_on", "-id")
    )
    return [
        PublicProject(
            project=p,
            percent=progress_percent(p.raised_fen, p.target_fen),
            accepting=project_accepts_donations(p, today=today),
        )
        for p in rows
    ]


def project_get_public(*, pk: int) -> FundraisingProject | None:
    """The project with its branch if its page is public, else None."""
    return (
        FundraisingProject.objects.select_related("branch").filter(pk=pk, status__in=PUBLIC_STATUSES).first()
    )


def project_co_initiators(*, project: FundraisingProject) -> list[CoInitiator]:
    """The project's partners for its public page (no assessment note, no agreement)."""
    return list(
        CoInitiator.objects.filter(project=project)
        .only("id", "project_id", "organisation_name", "role", "attribution_code")
        .order_by("id")
    )


def donations_recent(*, project: FundraisingProject, limit: int = RECENT_DONATIONS) -> list[Donation]:
    """The last `limit` paid gifts, newest first: public name, amount, date only.

    Late money held for refund (refund_flagged) is not a gift to the project and
    is left out. One query per counted status, each an ordered walk of the
    funds_donation_recent index (project, status, -paid_at) stopped by its LIMIT,
    merged here: a single `status IN (...)` query would have to sort every paid
    row of a big project to find the newest twenty.
    """
    rows: list[Donation] = []
    for status in COUNTED:
        rows.extend(
            Donation.objects.filter(project=project, status=status, refund_flagged=False)
            .order_by("-paid_at")
            .only("id", "public_name", "amount_fen", "paid_at")[:limit]
        )
    rows.sort(key=lambda d: (d.paid_at, d.pk), reverse=True)
    return rows[:limit]


def coinitiator_get_public(*, code: str) -> CoInitiator | None:
    """A partner by its attribution code, if its project's page is public."""
    if not code or len(code) > 32:
        return None
    return (
        CoInitiator.objects.select_related("project", "project__branch")
        .filter(attribution_code=code, project__status__in=PUBLIC_STATUSES)
        .first()
    )


@dataclass(frozen=True)
class PartnerTotals:
    amount_fen: int
    count: int


def coinitiator_totals(*, co_initiator: CoInitiator) -> PartnerTotals:
    """What was given through this partner's link: paid gifts, net of refunds; one query."""
    row = Donation.objects.filter(
        co_initiator=co_initiator, status__in=COUNTED, refund_flagged=False
    ).aggregate(amount=Sum(F("amount_fen") - F("refunded_fen")), count=Count("id"))
    return PartnerTotals(amount_fen=int(row["amount"] or 0), count=int(row["count"] or 0))


def donations_of_user(*, user: User) -> list[Donation]:
    """The signed-in user's donations: made while signed in, or with the same (verified) mobile.

    The sign-in proved the number, so gifts made earlier without an account but
    with that number are theirs too (the blind index matches without decrypting).
    """
    match = Q(user=user)
    if user.mobile_index:
        match |= Q(donor_mobile_index=user.mobile_index)
    return list(
        Donation.objects.filter(match)
        .exclude(status__in=(DonationStatus.CREATED, DonationStatus.EXPIRED, DonationStatus.CLOSED))
        .select_related("project")
        .only(
            "id",
            "amount_fen",
            "status",
            "created_at",
            "paid_at",
            "follow_token",
            "refunded_fen",
            "project__id",
            "project__title",
        )
        .order_by("-created_at", "-id")[:MY_DONATIONS_MAX]
    )
