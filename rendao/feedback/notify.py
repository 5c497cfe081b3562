"""Telling donors that their project's money or goods were used (the fan-out).

`use_report_notify(report_id)` walks the project's paid donations whose donor
asked to be told (Donation.feedback_wanted), and the project's goods intakes
with a donor account or mobile, in batches by id (keyset pagination: memory
stays bounded however many donors a project has). Each batch is one
transaction that locks the report row — so two runs of the same fan-out take
turns — writes one `UseNotice` per donor not yet told (bulk_create with
ignore_conflicts: the unique (report, donation) constraint is the last word)
and one outbox message per new notice. A retried or doubled task finds the
notices and tells nobody twice.

Who gets what: a donation made while signed in goes to the account's chosen
channels (rendao.core.messages.notify); otherwise an SMS to the mobile the
donor gave; a donation with neither is told only on its follow page. The text
names the project, what was used, for what, and the institution or category:
never another person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from rendao.approvals.templatetags.approvals import fen_yuan
from rendao.core.messages import message_render, notify
from rendao.core.services.outbox import message_enqueue
from rendao.feedback.messages import USE_REPORT
from rendao.feedback.models import UseKind, UseNotice, UseReport
from rendao.funds.models import Donation, DonationStatus

if TYPE_CHECKING:
    from rendao.goods.models import Intake

logger = logging.getLogger("rendao.feedback")

BATCH = 500
# Donations whose money is (at least partly) still the project's.
TOLD = (DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED)
# A report not fanned out this long after it was written was lost on the way.
SWEEP_AFTER = timedelta(minutes=10)
CHANNEL_ACCOUNT = "account"
CHANNEL_SMS = "sms"


def what_was_used(report: UseReport) -> str:
    """ "¥1,000.00", or "书包 × 200 个 (¥8,000.00)" for goods: no personal data."""
    amount = fen_yuan(report.amount_fen)
    if report.kind == UseKind.MONEY or not report.items:
        return str(amount)
    return f"{report.items} ({amount})"


def _context(report: UseReport, url: str) -> dict[str, Any]:
    return {
        "project": report.project.title,
        "what": what_was_used(report),
        "purpose": report.purpose,
        "recipient": report.recipient,
        "day": timezone.localdate(report.occurred_at).isoformat(),
        "entry": report.ledger_index,
        "url": url,
    }


def _follow_url(donation: Donation) -> str:
    return settings.SITE_URL + reverse("funds:donation_follow", kwargs={"token": donation.follow_token})


def _project_url(report: UseReport) -> str:
    return settings.SITE_URL + reverse("funds:give_project", kwargs={"pk": report.project_id})


def _sms(report: UseReport, mobile: str, url: str) -> None:
    # The donor has no account, so no language preference: the site's default.
    with override(settings.LANGUAGE_CODE):
        rendered = message_render(USE_REPORT.key, _context(report, url))
    message_enqueue(
        channel=CHANNEL_SMS,
        recipient=mobile,
        kind=USE_REPORT.key,
        subject=rendered.subject,
        body=rendered.body,
        branch=report.project.branch,
        forget_after_delivery=USE_REPORT.forget_after_delivery,
        params=_context(report, url),
    )


def _tell(report: UseReport, *, user: Any, mobile: str, url: str) -> None:
    if user is not None:
        notify(user=user, kind=USE_REPORT.key, context=_context(report, url), branch=report.project.branch)
    elif mobile:
        _sms(report, mobile, url)


def _locked(report_id: int) -> UseReport:
    return (
        UseReport.objects.select_for_update(of=("self",))
        .select_related("project", "project__branch")
        .get(pk=report_id)
    )


def _donation_batch(report: UseReport, after: int) -> list[Donation]:
    return list(
        Donation.objects.filter(
            project_id=report.project_id,
            status__in=TOLD,
            feedback_wanted=True,
            paid_at__lte=report.occurred_at,
            id__gt=after,
        )
        .filter(Q(user__isnull=False) | Q(donor_mobile_index__isnull=False))
        .select_related("user")
        .only("id", "user", "donor_mobile", "follow_token")
        .order_by("id")[:BATCH]
    )


def _notify_donations(report_id: int, batch: list[Donation]) -> int:
    with transaction.atomic():
        report = _locked(report_id)
        ids = [d.pk for d in batch]
        told = set(
            UseNotice.objects.filter(report_id=report_id, donation_id__in=ids).values_list(
                "donation_id", flat=True
            )
        )
        fresh = [d for d in batch if d.pk not in told]
        UseNotice.objects.bulk_create(
            [
                UseNotice(
                    report_id=report_id,
                    donation_id=d.pk,
                    channel=CHANNEL_ACCOUNT if d.user_id else CHANNEL_SMS,
                )
                for d in fresh
            ],
            ignore_conflicts=True,
        )
        for d in fresh:
            _tell(report, user=d.user if d.user_id else None, mobile=d.donor_mobile or "", url=_follow_url(d))
    return len(fresh)


def _intake_batch(report: UseReport, after: int) -> list[Intake]:
    from rendao.goods.models import Intake

    return list(
        Intake.objects.filter(
            project_id=report.project_id,
            received_on__lte=timezone.localdate(report.occurred_at),
            id__gt=after,
        )
        .filter(Q(donor_user__isnull=False) | Q(donor_mobile_index__isnull=False))
        .select_related("donor_user")
        .only("id", "donor_user", "donor_mobile")
        .order_by("id")[:BATCH]
    )


def _notify_intakes(report_id: int, batch: Iterable[Intake]) -> int:
    batch = list(batch)
    with transaction.atomic():
        report = _locked(report_id)
        ids = [i.pk for i in batch]
        told = set(
            UseNotice.objects.filter(report_id=report_id, intake_id__in=ids).values_list(
                "intake_id", flat=True
            )
        )
        fresh = [i for i in batch if i.pk not in told]
        UseNotice.objects.bulk_create(
            [
                UseNotice(
                    report_id=report_id,
                    intake_id=i.pk,
                    channel=CHANNEL_ACCOUNT if i.donor_user_id else CHANNEL_SMS,
                )
                for i in fresh
            ],
            ignore_conflicts=True,
        )
        url = _project_url(report)
        for i in fresh:
            _tell(
                report, user=i.donor_user if i.donor_user_id else None, mobile=i.donor_mobile or "", url=url
            )
    return len(fresh)


def use_report_notify(report_id: int) -> int:
    """Tell every donor of the report's project who asked to be told; returns how many were told now."""
    report = UseReport.objects.select_related("project").filter(pk=report_id).first()
    if report is None:
        logger.warning("use report %s not found for the fan-out", report_id)
        return 0
    told = 0
    after = 0
    while True:
        donations = _donation_batch(report, after)
        if not donations:
            break
        told += _notify_donations(report_id, donations)
        after = donations[-1].pk
    after = 0
    while True:
        intakes = _intake_batch(report, after)
        if not intakes:
            break
        told += _notify_intakes(report_id, intakes)
        after = intakes[-1].pk
    UseReport.objects.filter(pk=report_id, notified_at__isnull=True).update(notified_at=timezone.now())
    logger.info("use report %s: %s donors told", report_id, told)
    return told


def use_reports_sweep(*, now: Any = None) -> int:
    """Queue again the fan-outs that a lost task left undone (older than SWEEP_AFTER)."""
    from rendao.feedback.tasks import use_report_notify_task

    cutoff = (now or timezone.now()) - SWEEP_AFTER
    ids = list(
        UseReport.objects.filter(notified_at__isnull=True, occurred_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for report_id in ids:
        use_report_notify_task(report_id)
    return len(ids)
