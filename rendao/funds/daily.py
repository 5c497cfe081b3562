"""Keeping the daily totals (`DailyTotal`) that the public disclosure pages sum.

Both writers are called inside the payment / refund transaction, after that
transaction has updated (and so locked) the project's row: every writer of one
project's rows is serialised by that lock, so the update-then-insert below
cannot race on PostgreSQL, and SQLite serialises all writers anyway.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import F, Sum
from django.utils import timezone

from rendao.funds.models import DailyTotal, DonationStatus, FundraisingProject

if TYPE_CHECKING:
    from rendao.funds.models import Donation


def _add(donation: Donation, at: datetime, **increments: int) -> None:
    key = {
        "project_id": donation.project_id,
        "day": timezone.localdate(at),
        "channel": donation.channel,
        "partner": donation.co_initiator_id or 0,
    }
    updated = DailyTotal.objects.filter(**key).update(**{k: F(k) + v for k, v in increments.items()})
    if not updated:
        DailyTotal.objects.create(**key, **increments)


def daily_received(donation: Donation) -> None:
    """Count a paid donation on the day it was paid."""
    _add(donation, donation.paid_at or timezone.now(), received_count=1, received_fen=donation.amount_fen)


def daily_refunded(donation: Donation, amount_fen: int, *, at: datetime, fully: bool) -> None:
    """Count a succeeded refund on the day it succeeded."""
    _add(donation, at, refunded_fen=amount_fen, refunded_count=1 if fully else 0)


def daily_rebuild(project: FundraisingProject) -> int:
    """Recompute one project's daily totals from its donations and refunds (a repair
    and a check: `daily_consistent` compares the stored rows with this).

    Returns the number of rows written.
    """
    rows = _recomputed(project)
    DailyTotal.objects.filter(project=project).delete()
    DailyTotal.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _recomputed(project: FundraisingProject) -> list[DailyTotal]:
    from rendao.funds.models import Donation, Refund

    totals: dict[tuple[date, str, int], DailyTotal] = {}

    def row(day: date, channel: str, partner: int) -> DailyTotal:
        key = (day, channel, partner)
        if key not in totals:
            totals[key] = DailyTotal(project=project, day=day, channel=channel, partner=partner)
        return totals[key]

    paid = Donation.objects.filter(
        project=project,
        refund_flagged=False,
        status__in=[DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED, DonationStatus.REFUNDED],
    ).values_list("paid_at", "channel", "co_initiator_id", "amount_fen")
    for paid_at, channel, partner, amount in paid.iterator(chunk_size=5000):
        r = row(timezone.localdate(paid_at), channel, partner or 0)
        r.received_count += 1
        r.received_fen += amount
    refunds = (
        Refund.objects.filter(
            donation__project=project, donation__refund_flagged=False, status=Refund.Status.SUCCEEDED
        )
        .order_by("donation_id", "completed_at", "pk")
        .values_list(
            "donation_id",
            "completed_at",
            "donation__channel",
            "donation__co_initiator_id",
            "amount_fen",
            "donation__amount_fen",
        )
    )
    refunded_so_far: dict[int, int] = {}
    for donation_id, completed_at, channel, partner, amount, donated in refunds.iterator(chunk_size=5000):
        r = row(timezone.localdate(completed_at), channel, partner or 0)
        r.refunded_fen += amount
        refunded_so_far[donation_id] = refunded_so_far.get(donation_id, 0) + amount
        if refunded_so_far[donation_id] == donated:
            r.refunded_count += 1
    return sorted(totals.values(), key=lambda t: (str(t.day), t.channel, t.partner))


def daily_consistent(project: FundraisingProject) -> bool:
    """Do the stored daily totals equal a recomputation, and match the project's counters?"""
    fields = ("day", "channel", "partner", "received_count", "received_fen", "refunded_fen", "refunded_count")
    stored = sorted(
        DailyTotal.objects.filter(project=project).values_list(*fields), key=lambda t: (str(t[0]), t[1], t[2])
    )
    fresh = [tuple(getattr(r, f) for f in fields) for r in _recomputed(project)]
    sums = DailyTotal.objects.filter(project=project).aggregate(
        rf=Sum("received_fen"), ff=Sum("refunded_fen"), rc=Sum("received_count"), fc=Sum("refunded_count")
    )
    project.refresh_from_db(fields=["raised_fen", "donation_count"])
    counters_match = (sums["rf"] or 0) - (sums["ff"] or 0) == project.raised_fen and (sums["rc"] or 0) - (
        sums["fc"] or 0
    ) == project.donation_count
    return stored == fresh and counters_match
