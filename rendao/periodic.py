"""The one place where periodic jobs are registered, for every app.

Each job is a thin huey wrapper around a plain function that lives in its app
(and is tested there); the schedule is read here, all in one file. Imported by
rendao.core.tasks, so web processes and the worker both know these jobs.

Every job must be safe to run twice at once: with several workers each running
the scheduler, or a slow run overlapping the next, the same job can start twice.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from rendao.approvals.services import approvals_sweep
from rendao.core.outbox_delivery import outbox_sweep
from rendao.core.services.accounts import signin_records_purge
from rendao.ledger.services import ledger_checkpoint_sign


@db_periodic_task(crontab(minute="*"))
def outbox_sweep_every_minute() -> None:
    """Re-queue due outbox messages and take back claims of crashed workers."""
    outbox_sweep()


@db_periodic_task(crontab(minute="17"))
def signin_records_purge_hourly() -> None:
    """Drop sign-in codes and password attempts older than a day (PIPL: keep no more than needed)."""
    signin_records_purge()


@db_periodic_task(crontab(minute="*/5"))
def approvals_sweep_every_five_minutes() -> None:
    """Remind deciders of approval steps near their time limit; escalate overdue ones (idempotent)."""
    approvals_sweep()


@db_periodic_task(crontab(minute="*"))
def ledger_checkpoint_every_minute() -> None:
    """Sign a checkpoint if entries committed without one, or if the last is a day old."""
    ledger_checkpoint_sign()


@db_periodic_task(crontab(minute="*"))
def donations_sweep_every_minute() -> None:
    """Ask the channels about unpaid orders nobody heard back about; expire old ones."""
    from rendao.funds.donations import donations_sweep

    donations_sweep()


@db_periodic_task(crontab(minute="*/5"))
def receipts_sweep_every_five_minutes() -> None:
    """Issue receipts that a lost task left behind."""
    from rendao.funds.receipting import receipts_sweep

    receipts_sweep()


@db_periodic_task(crontab(minute="23"))
def notification_nonces_purge_hourly() -> None:
    """Forget notification nonces older than a day (the 5-minute window refuses them anyway)."""
    from rendao.funds.donations import nonces_purge

    nonces_purge()


@db_periodic_task(crontab(minute="*/5"))
def use_reports_sweep_every_five_minutes() -> None:
    """Queue again donor feedback fan-outs not finished ten minutes after the use (idempotent)."""
    from rendao.feedback.notify import use_reports_sweep

    use_reports_sweep()


@db_periodic_task(crontab(minute="*"))
def refunds_sweep_every_minute() -> None:
    """Ask the channels again about refunds left requested or processing; record the answers."""
    from rendao.funds.refunds import refunds_sweep

    refunds_sweep()


# 10:30 China time (02:30 UTC; huey's crontab reads UTC here): WeChat Pay makes
# yesterday's bill from 09:00 and advises fetching it after 10:00, Alipay likewise.
@db_periodic_task(crontab(minute="30", hour="2"))
def reconciliation_daily() -> None:
    """Reconcile yesterday's bill of every enabled payment channel; failures are logged."""
    from rendao.funds.reconciliation import reconcile_yesterday

    reconcile_yesterday()


@db_periodic_task(crontab(minute="41"))
def follow_attempts_purge_hourly() -> None:
    """Drop "follow my donation" look-up attempts older than a day (they count for an hour)."""
    from rendao.disclosure.follow import follow_attempts_purge

    follow_attempts_purge()


# 09:10 China time (01:10 UTC): the calendar works in China's days, so the job runs
# after midnight there; the once-per-item notice rows make a second run send nothing.
@db_periodic_task(crontab(minute="10", hour="1"))
def disclosure_overdue_notify_daily() -> None:
    """Tell finance staff of overdue statutory disclosures (the branch responsible and its parent)."""
    from rendao.disclosure.due import overdue_notify

    overdue_notify()
