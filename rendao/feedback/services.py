"""Writes of donor feedback: record a use of a project's money or goods.

`use_report_record` is called by the disbursements and goods services inside
their own transaction, right after the log entry that proves the use; telling
the donors is queued on commit (`rendao.feedback.tasks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from rendao.feedback.models import UseKind, UseReport

if TYPE_CHECKING:
    from datetime import datetime

    from rendao.funds.models import FundraisingProject


def use_report_record(
    *,
    project: FundraisingProject,
    kind: UseKind,
    source: str,
    amount_fen: int,
    recipient: str,
    purpose: str,
    ledger_index: int,
    items: str = "",
    occurred_at: datetime | None = None,
) -> UseReport:
    """Record one use (idempotent by `source`) and queue the donors' messages after commit.

    `recipient` is an institution's name or a category, never a person's name:
    it is shown to every donor of the project.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("use_report_record runs inside the business transaction")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen < 0:
        raise ValueError("amount_fen is a non-negative integer number of fen")
    report, created = UseReport.objects.get_or_create(
        source=source,
        defaults={
            "project": project,
            "kind": kind,
            "amount_fen": amount_fen,
            "items": items[:500],
            "recipient": recipient[:200],
            "purpose": purpose[:300],
            "ledger_index": ledger_index,
            "occurred_at": occurred_at or timezone.now(),
        },
    )
    if created:
        report_id = report.pk

        def _queue() -> None:
            # Imported late: the task module pulls in the queue, which tests and
            # commands may not have configured when this module is imported.
            from rendao.feedback.tasks import use_report_notify_task

            use_report_notify_task(report_id)

        transaction.on_commit(_queue)
    return report
