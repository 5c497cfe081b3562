"""Task-queue jobs of the ledger: a checkpoint a few seconds after new entries commit.

Huey's periodic tasks run at most once a minute, so each append schedules a
delayed signing (deduplicated through the cache) when its transaction commits;
rendao/periodic.py adds the minutely safety net that also re-signs daily.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from huey.contrib.djhuey import db_task

from rendao.ledger.services import ledger_checkpoint_sign

_PENDING = "ledger:checkpoint-pending"


@db_task(retries=2, retry_delay=1)
def ledger_checkpoint_task() -> None:
    ledger_checkpoint_sign()


def checkpoint_soon() -> None:
    """Schedule one signing RENDAO_LEDGER_CHECKPOINT_SECONDS from now, unless one is pending.

    The pending mark expires when the scheduled run starts, so an entry that
    commits later schedules the next run: every commit is covered within about
    one interval (plus the queue's latency).
    """
    delay = max(0, int(settings.LEDGER_CHECKPOINT_SECONDS))
    if cache.add(_PENDING, 1, timeout=max(1, delay)):
        ledger_checkpoint_task.schedule(delay=delay)
