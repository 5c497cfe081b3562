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
