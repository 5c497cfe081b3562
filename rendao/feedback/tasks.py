"""Task-queue jobs of donor feedback (the periodic safety net is in rendao/periodic.py)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from rendao.feedback.notify import use_report_notify


# Safe to run twice (notices are unique per report and donor); a run lost
# altogether is queued again by use_reports_sweep after ten minutes.
@db_task(retries=3, retry_delay=30)
def use_report_notify_task(report_id: int) -> None:
    use_report_notify(report_id)
