"""Task-queue jobs of the ledger: a checkpoint a few seconds after new entries commit.

Huey's periodic tasks run at most once a minute, so each append schedules a
delayed signing (deduplicated through the cache) when its transaction commits;
rendao/periodic.py adds the minutely safety net that also re-signs daily.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from huey.contrib.djhuey import db_task

from rendao.ledger.services import ledger_checkpoint_sign

_PENDING = "ledger:checkpoint-pending"


@db_task(retries=2, retry_delay=1)
def ledger_checkpoint_task() -> None:
    ledger_checkpoint_sign()


# When this process last scheduled a signing (monotonic seconds).
_scheduled_at: float | None = None


def checkpoint_soon() -> None:
    """Schedule one signing RENDAO_LEDGER_CHECKPOINT_SECONDS from now, unless one is pending.

    The pending mark expires when the scheduled run starts, so an entry that
    commits later schedules the next run: every commit is covered within about
    one interval (plus the queue's latency). A commit within the interval after
    this very process scheduled a run is covered by that run (it signs what is
    committed when it runs), so it skips even the shared cache look-up: most
    commits of a busy process cost nothing here.
    """
    global _scheduled_at
    delay = max(0, int(settings.LEDGER_CHECKPOINT_SECONDS))
    now = time.monotonic()
    if _scheduled_at is not None and now - _scheduled_at < delay:
        return
    if cache.add(_PENDING, 1, timeout=max(1, delay)):
        ledger_checkpoint_task.schedule(delay=delay)
        _scheduled_at = now
